#ifndef CFUNCTIONFS_H
#define CFUNCTIONFS_H
#include <linux/usb/functionfs.h>
#include <linux/usb/ch9.h>

/// ioctl request numbers that Swift cannot import from the _IO macros.
extern const unsigned long CFunctionFS_FIFO_STATUS;
extern const unsigned long CFunctionFS_FIFO_FLUSH;
extern const unsigned long CFunctionFS_CLEAR_HALT;
extern const unsigned long CFunctionFS_INTERFACE_REVMAP;
extern const unsigned long CFunctionFS_ENDPOINT_REVMAP;
extern const unsigned long CFunctionFS_ENDPOINT_DESC;


/// ioctl(2) is variadic and unavailable in Swift: these wrap the calls the gadget makes.
/// Each returns the ioctl result (-1 with errno set on failure).
int CFunctionFS_endpoint_descriptor(int fd, struct usb_endpoint_descriptor *descriptor);
int CFunctionFS_clear_halt(int fd);

/// eventfd(2), whose header Swift's Glibc module does not include.
int CFunctionFS_eventfd(unsigned int initial, int flags);
extern const int CFunctionFS_EFD_CLOEXEC;

#endif

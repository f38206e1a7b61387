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

#endif

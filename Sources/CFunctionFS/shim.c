#include "CFunctionFS.h"
#include <sys/ioctl.h>
#include <sys/eventfd.h>

_Static_assert(sizeof(struct usb_functionfs_event) == 12, "usb_functionfs_event layout");

const unsigned long CFunctionFS_FIFO_STATUS = FUNCTIONFS_FIFO_STATUS;
const unsigned long CFunctionFS_FIFO_FLUSH = FUNCTIONFS_FIFO_FLUSH;
const unsigned long CFunctionFS_CLEAR_HALT = FUNCTIONFS_CLEAR_HALT;
const unsigned long CFunctionFS_INTERFACE_REVMAP = FUNCTIONFS_INTERFACE_REVMAP;
const unsigned long CFunctionFS_ENDPOINT_REVMAP = FUNCTIONFS_ENDPOINT_REVMAP;
const unsigned long CFunctionFS_ENDPOINT_DESC = FUNCTIONFS_ENDPOINT_DESC;

int CFunctionFS_endpoint_descriptor(int fd, struct usb_endpoint_descriptor *descriptor) {
    return ioctl(fd, FUNCTIONFS_ENDPOINT_DESC, descriptor);
}

int CFunctionFS_clear_halt(int fd) {
    return ioctl(fd, FUNCTIONFS_CLEAR_HALT);
}

int CFunctionFS_eventfd(unsigned int initial, int flags) {
    return eventfd(initial, flags);
}

const int CFunctionFS_EFD_CLOEXEC = EFD_CLOEXEC;

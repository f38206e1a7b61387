#include "CFunctionFS.h"
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

int CFunctionFS_io_setup(unsigned int maximumEvents, aio_context_t *context) {
    *context = 0;
    return (int)syscall(SYS_io_setup, maximumEvents, context);
}

int CFunctionFS_io_destroy(aio_context_t context) {
    return (int)syscall(SYS_io_destroy, context);
}

void CFunctionFS_iocb_prepare(struct iocb *control, int fd, int isWrite, void *buffer, size_t length, uint64_t tag) {
    memset(control, 0, sizeof *control);
    control->aio_data = tag;
    control->aio_lio_opcode = isWrite ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
    control->aio_fildes = (uint32_t)fd;
    control->aio_buf = (uint64_t)(uintptr_t)buffer;
    control->aio_nbytes = length;
}

int CFunctionFS_io_submit_one(aio_context_t context, struct iocb *control, int fd, int isWrite, void *buffer,
                              size_t length, uint64_t tag) {
    CFunctionFS_iocb_prepare(control, fd, isWrite, buffer, length, tag);
    struct iocb *list[1] = {control};
    return (int)syscall(SYS_io_submit, context, 1L, list);
}

int CFunctionFS_io_submit(aio_context_t context, long count, struct iocb **controls) {
    return (int)syscall(SYS_io_submit, context, count, controls);
}

int CFunctionFS_io_getevents(aio_context_t context, long minimum, long maximum, struct io_event *events,
                             long long timeoutNanoseconds) {
    struct timespec timeout = {(time_t)(timeoutNanoseconds / 1000000000LL), (long)(timeoutNanoseconds % 1000000000LL)};
    return (int)syscall(SYS_io_getevents, context, minimum, maximum, events, timeoutNanoseconds < 0 ? NULL : &timeout);
}

int CFunctionFS_io_cancel(aio_context_t context, struct iocb *control, struct io_event *result) {
    return (int)syscall(SYS_io_cancel, context, control, result);
}

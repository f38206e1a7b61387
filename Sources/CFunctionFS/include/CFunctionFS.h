#ifndef CFUNCTIONFS_H
#define CFUNCTIONFS_H
#include <linux/usb/functionfs.h>
#include <linux/usb/ch9.h>
#include <linux/aio_abi.h>
#include <stddef.h>
#include <stdint.h>

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


/// Linux AIO (io_setup(2) and friends) on FunctionFS endpoints, as adbd uses it to keep several
/// requests in flight per endpoint (a blocking read or write holds the endpoint's lock until it
/// completes, so threads cannot overlap them). glibc has no wrappers and `syscall` is variadic,
/// so these call the system calls. Each returns what the system call returns (-1 with errno set).
int CFunctionFS_io_setup(unsigned int maximumEvents, aio_context_t *context);
int CFunctionFS_io_destroy(aio_context_t context);
/// Fills `control` for one read (`isWrite` 0) or write of `length` bytes at `buffer` on `fd` and
/// submits it; `tag` comes back in the completion's `data`. `control` must stay valid until the
/// request completes (io_cancel names a request by it). Returns 1 when submitted.
int CFunctionFS_io_submit_one(aio_context_t context, struct iocb *control, int fd, int isWrite, void *buffer,
                              size_t length, uint64_t tag);
/// Fills `control` for one request as `CFunctionFS_io_submit_one` does, without submitting it.
void CFunctionFS_iocb_prepare(struct iocb *control, int fd, int isWrite, void *buffer, size_t length, uint64_t tag);
/// Submits `count` prepared requests in one system call (the kernel takes them in order); returns
/// how many it took (fewer when one is refused: the rest are not submitted), or -1 with errno when
/// it took none.
int CFunctionFS_io_submit(aio_context_t context, long count, struct iocb **controls);
/// Waits for at least `minimum` completions (at most `maximum`), for at most `timeoutNanoseconds`
/// (negative: no limit). Interrupted by a signal: -1 with errno EINTR.
int CFunctionFS_io_getevents(aio_context_t context, long minimum, long maximum, struct io_event *events,
                             long long timeoutNanoseconds);
int CFunctionFS_io_cancel(aio_context_t context, struct iocb *control, struct io_event *result);

#endif

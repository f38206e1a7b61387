/*
 * ffs-echo: the C baseline of the VM's bulk echo figures, device side. A minimal FunctionFS
 * function (bulk OUT ep1, bulk IN ep2, interface ff/ec/01 so the Swift host never mistakes it for
 * a cartridge) that echoes every byte back, written the plain way: one thread reads the OUT
 * endpoint in 64 KiB requests into a ring of buffers, another writes each chunk back to the IN
 * endpoint, with a zero-length packet after a chunk whose length is a multiple of wMaxPacketSize
 * (the same ZLP rule as the cartridge protocol). The gadget itself (configfs, UDC) is set up by
 * the calling shell script.
 *
 * Usage: ffs-echo MOUNTPOINT [SUBCLASS]
 *        (FunctionFS mounted there; prints "ffs-echo: ready" once the descriptors are written, then
 *        the script binds the UDC. SUBCLASS, hex, default ec: with ca the interface is ff/ca/01 and
 *        the Swift host (`cartridge-usb-selftest bench`) takes it for a cartridge, so the Swift
 *        host can be timed against the C device.)
 * Build: cc -O2 -pthread -o ffs-echo ffs-echo.c
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/usb/ch9.h>
#include <linux/usb/functionfs.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define CHUNK (64 * 1024)
#define RING 32

struct endpoint_descriptor {
    uint8_t bLength, bDescriptorType, bEndpointAddress, bmAttributes;
    uint16_t wMaxPacketSize;
    uint8_t bInterval;
} __attribute__((packed));

struct speed_descriptors {
    struct usb_interface_descriptor interface;
    struct endpoint_descriptor out, in;
} __attribute__((packed));

/* Little-endian fields written as host integers: the VM is x86_64. */
static struct {
    struct usb_functionfs_descs_head_v2 header;
    uint32_t fs_count, hs_count;
    struct speed_descriptors fs, hs;
} __attribute__((packed)) descriptors = {
    .header = {
        .magic = FUNCTIONFS_DESCRIPTORS_MAGIC_V2,
        .length = sizeof(descriptors),
        .flags = FUNCTIONFS_HAS_FS_DESC | FUNCTIONFS_HAS_HS_DESC,
    },
    .fs_count = 3,
    .hs_count = 3,
#define SPEED(size) { \
        .interface = { .bLength = sizeof(struct usb_interface_descriptor), .bDescriptorType = USB_DT_INTERFACE, \
                       .bNumEndpoints = 2, .bInterfaceClass = 0xff, .bInterfaceSubClass = 0xec, .bInterfaceProtocol = 0x01 }, \
        .out = { .bLength = 7, .bDescriptorType = USB_DT_ENDPOINT, .bEndpointAddress = 1 | USB_DIR_OUT, \
                 .bmAttributes = USB_ENDPOINT_XFER_BULK, .wMaxPacketSize = size }, \
        .in = { .bLength = 7, .bDescriptorType = USB_DT_ENDPOINT, .bEndpointAddress = 2 | USB_DIR_IN, \
                .bmAttributes = USB_ENDPOINT_XFER_BULK, .wMaxPacketSize = size } }
    .fs = SPEED(64),
    .hs = SPEED(512),
};

static const struct usb_functionfs_strings_head strings = {
    .magic = FUNCTIONFS_STRINGS_MAGIC, .length = sizeof(strings), .str_count = 0, .lang_count = 0,
};

static int ep0, ep_out, ep_in;
static size_t packet = 512;

/* The ring between the reader and the writer: slots [tail, head) hold chunks to echo. */
static uint8_t *buffers[RING];
static ssize_t lengths[RING];
static unsigned head, tail;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;

static void *reader(void *unused) {
    (void)unused;
    for (;;) {
        pthread_mutex_lock(&lock);
        while (head - tail == RING) pthread_cond_wait(&changed, &lock);
        unsigned slot = head % RING;
        pthread_mutex_unlock(&lock);
        ssize_t count = read(ep_out, buffers[slot], CHUNK);
        if (count < 0) {
            if (errno == EINTR) continue;
            if (errno == ESHUTDOWN || errno == EAGAIN) { usleep(10000); continue; }  /* disabled: wait for ENABLE */
            perror("ffs-echo: read");
            exit(1);
        }
        if (count == 0) continue;  /* a zero-length packet */
        pthread_mutex_lock(&lock);
        lengths[slot] = count;
        head++;
        pthread_cond_signal(&changed);
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

static void *writer(void *unused) {
    (void)unused;
    for (;;) {
        pthread_mutex_lock(&lock);
        while (head == tail) pthread_cond_wait(&changed, &lock);
        unsigned slot = tail % RING;
        pthread_mutex_unlock(&lock);
        ssize_t length = lengths[slot], offset = 0;
        while (offset < length) {
            ssize_t written = write(ep_in, buffers[slot] + offset, length - offset);
            if (written < 0) {
                if (errno == EINTR) continue;
                if (errno == ESHUTDOWN || errno == EAGAIN) break;  /* host gone: drop the chunk */
                perror("ffs-echo: write");
                exit(1);
            }
            offset += written;
        }
        if (offset == length && length % packet == 0) {
            while (write(ep_in, buffers[slot], 0) < 0 && errno == EINTR) {}
        }
        pthread_mutex_lock(&lock);
        tail++;
        pthread_cond_signal(&changed);
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

static int open_file(const char *directory, const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", directory, name);
    int fd = open(path, O_RDWR);
    if (fd < 0) { fprintf(stderr, "ffs-echo: open %s: %s\n", path, strerror(errno)); exit(1); }
    return fd;
}

int main(int argc, char **argv) {
    if (argc != 2 && argc != 3) { fprintf(stderr, "usage: ffs-echo MOUNTPOINT [SUBCLASS]\n"); return 2; }
    if (argc == 3) descriptors.fs.interface.bInterfaceSubClass = descriptors.hs.interface.bInterfaceSubClass =
        (uint8_t)strtoul(argv[2], NULL, 16);
    ep0 = open_file(argv[1], "ep0");
    if (write(ep0, &descriptors, sizeof descriptors) != sizeof descriptors) { perror("ffs-echo: descriptors"); return 1; }
    if (write(ep0, &strings, sizeof strings) != sizeof strings) { perror("ffs-echo: strings"); return 1; }
    ep_out = open_file(argv[1], "ep1");
    ep_in = open_file(argv[1], "ep2");
    for (int i = 0; i < RING; i++) buffers[i] = malloc(CHUNK);
    pthread_t threads[2];
    pthread_create(&threads[0], NULL, reader, NULL);
    pthread_create(&threads[1], NULL, writer, NULL);
    printf("ffs-echo: ready\n");
    fflush(stdout);
    /* ep0: report the session events; stall every SETUP (no control requests are served). */
    for (;;) {
        struct usb_functionfs_event events[4];
        ssize_t count = read(ep0, events, sizeof events);
        if (count < 0) {
            if (errno == EINTR) continue;
            perror("ffs-echo: ep0");
            return 1;
        }
        for (ssize_t i = 0; i < count / (ssize_t)sizeof events[0]; i++) {
            switch (events[i].type) {
            case FUNCTIONFS_ENABLE: {
                struct usb_endpoint_descriptor descriptor;
                if (ioctl(ep_in, FUNCTIONFS_ENDPOINT_DESC, &descriptor) == 0)
                    packet = le16toh(descriptor.wMaxPacketSize) & 0x7ff;
                printf("ffs-echo: ENABLE (wMaxPacketSize %zu)\n", packet);
                fflush(stdout);
                break;
            }
            case FUNCTIONFS_SETUP:
                if (events[i].u.setup.bRequestType & USB_DIR_IN) (void)!read(ep0, NULL, 0);
                else (void)!write(ep0, NULL, 0);
                break;
            default:
                break;
            }
        }
    }
}

/*
 * usb-echo: the C baseline of the VM's bulk echo figures, host side (libusb-1.0). Talks to
 * ffs-echo (interface ff/ec/01) and measures the same things as `cartridge-usb-selftest bench`,
 * the same way: the round trip of a 16-byte frame, then for 16 KiB, 64 KiB, 96 KiB and 1 MiB frames the
 * bytes echoed per second with one frame in flight (the frame is sent as one OUT transfer, with a
 * zero-length packet when its length is a multiple of wMaxPacketSize, while IN transfers of at
 * least 64 KiB read the echo back; every echo is compared with what was sent).
 *
 * Usage: usb-echo [--pings N] [--seconds S] [--subclass HEX]
 *        (--subclass ca: talk to a cartridge interface ff/ca/01, i.e. time the Swift echo device
 *        `cartridge-usb-selftest device` from the C host)
 * Output lines: "c-echo: ping ..." and "c-echo: echo N-byte frames: X MB/s each way (...)".
 * Build: cc -O2 -o usb-echo usb-echo.c $(pkg-config --cflags --libs libusb-1.0)
 */
#include <libusb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "echo-measure.h"

static libusb_context *context;
static libusb_device_handle *handle;
static unsigned char out_address, in_address;
static int packet = 512;
static int subclass = 0xec;

static void fail(const char *what, int status) {
    fprintf(stderr, "usb-echo: %s: %s\n", what, libusb_error_name(status));
    exit(1);
}

static int find_echo_device(void) {
    libusb_device **list;
    ssize_t count = libusb_get_device_list(context, &list);
    int found = 0;
    for (ssize_t i = 0; i < count && !found; i++) {
        struct libusb_config_descriptor *config;
        if (libusb_get_active_config_descriptor(list[i], &config) != 0) continue;
        for (int n = 0; n < config->bNumInterfaces && !found; n++) {
            const struct libusb_interface_descriptor *setting = &config->interface[n].altsetting[0];
            if (setting->bInterfaceClass != 0xff || setting->bInterfaceSubClass != subclass || setting->bInterfaceProtocol != 0x01)
                continue;
            for (int e = 0; e < setting->bNumEndpoints; e++) {
                const struct libusb_endpoint_descriptor *endpoint = &setting->endpoint[e];
                if (endpoint->bEndpointAddress & LIBUSB_ENDPOINT_IN) in_address = endpoint->bEndpointAddress;
                else out_address = endpoint->bEndpointAddress;
                packet = endpoint->wMaxPacketSize & 0x7ff;
            }
            int status = libusb_open(list[i], &handle);
            if (status != 0) fail("open", status);
            status = libusb_claim_interface(handle, setting->bInterfaceNumber);
            if (status != 0) fail("claim", status);
            libusb_clear_halt(handle, in_address);
            libusb_clear_halt(handle, out_address);
            found = 1;
        }
        libusb_free_config_descriptor(config);
    }
    libusb_free_device_list(list, 1);
    return found;
}

static void done(struct libusb_transfer *transfer) { *(int *)transfer->user_data = 1; }

/* Sends `frame` (length bytes) and reads the echo into `echo`; 0 on success (an echo_round_trip:
 * the device handle is global, so no context). */
static int round_trip(void *context, const unsigned char *frame, unsigned char *echo, int length) {
    (void)context;
    struct libusb_transfer *out = libusb_alloc_transfer(0), *in = libusb_alloc_transfer(0);
    int out_done = 0, in_done = 0, received = 0, status;
    int in_size = length < 65536 ? 65536 : (length + packet - 1) / packet * packet;
    unsigned char *in_buffer = malloc(in_size);
    libusb_fill_bulk_transfer(out, handle, out_address, (unsigned char *)frame, length, done, &out_done, 5000);
    if (length % packet == 0) out->flags |= LIBUSB_TRANSFER_ADD_ZERO_PACKET;
    if ((status = libusb_submit_transfer(out)) != 0) fail("submit OUT", status);
    while (received < length) {
        in_done = 0;
        libusb_fill_bulk_transfer(in, handle, in_address, in_buffer, in_size, done, &in_done, 5000);
        if ((status = libusb_submit_transfer(in)) != 0) fail("submit IN", status);
        while (!in_done) libusb_handle_events_completed(context, &in_done);
        if (in->status != LIBUSB_TRANSFER_COMPLETED) { fprintf(stderr, "usb-echo: IN status %d\n", in->status); exit(1); }
        if (received + in->actual_length > length) { fprintf(stderr, "usb-echo: too many bytes\n"); exit(1); }
        memcpy(echo + received, in_buffer, in->actual_length);
        received += in->actual_length;
    }
    while (!out_done) libusb_handle_events_completed(context, &out_done);
    if (out->status != LIBUSB_TRANSFER_COMPLETED) { fprintf(stderr, "usb-echo: OUT status %d\n", out->status); exit(1); }
    libusb_free_transfer(out);
    libusb_free_transfer(in);
    free(in_buffer);
    return memcmp(frame, echo, length) != 0;
}

int main(int argc, char **argv) {
    int pings = 300;
    double seconds = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--pings") == 0) pings = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0) seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--subclass") == 0) subclass = (int)strtol(argv[i + 1], NULL, 16);
    }
    int status = libusb_init(&context);
    if (status != 0) fail("init", status);
    double deadline = now() + 20;
    while (!find_echo_device()) {
        if (now() > deadline) { fprintf(stderr, "usb-echo: no ff/%02x/01 device\n", subclass); return 1; }
        libusb_exit(context);
        struct timespec pause = {0, 100000000};
        nanosleep(&pause, NULL);
        libusb_init(&context);
    }
    if (measure_echo("usb-echo", "c-echo", round_trip, NULL, pings, seconds)) return 1;
    libusb_release_interface(handle, 0);
    libusb_close(handle);
    libusb_exit(context);
    return 0;
}

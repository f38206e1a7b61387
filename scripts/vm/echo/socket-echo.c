/*
 * socket-echo: the Unix-socket side of the VM's floor figures. usb-echo and ffs-echo time a bare
 * echo over the emulated bus; this times the same echo over an AF_UNIX stream socket (the
 * transport `cartridged --socket` serves) in the same VM run, so that what the bus itself adds
 * to a round trip (no protocol, no Swift) is measured, not assumed: the difference is a floor
 * under any protocol's USB-over-socket ratio.
 *
 * One process: a forked child echoes every byte back; the parent measures the round trip of a
 * 16-byte frame (median and p99 over --pings) and, for each size, frames echoed for --seconds
 * (each frame written whole and read back whole before the next; compared with what was sent).
 *
 * Usage: socket-echo [--pings N] [--seconds S] [--path PATH]   (default PATH /run/socket-echo.sock)
 * Output lines: "socket-echo: ping 16-byte frame round trip: median X us, p99 Y us over N" and
 * "socket-echo: echo N-byte frames: X MB/s each way (B bytes in T ms)", as usb-echo prints them.
 * Build: cc -O2 -o socket-echo socket-echo.c
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "echo-measure.h"

static void fail(const char *what) {
    fprintf(stderr, "socket-echo: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void serve(int listener) {
    int connection = accept(listener, NULL, NULL);
    if (connection < 0) fail("accept");
    static unsigned char buffer[1 << 16];
    for (;;) {
        ssize_t count = read(connection, buffer, sizeof buffer);
        if (count < 0 && errno == EINTR) continue;
        if (count <= 0) exit(count < 0);
        for (ssize_t done = 0; done < count;) {
            ssize_t written = write(connection, buffer + done, count - done);
            if (written < 0 && errno == EINTR) continue;
            if (written < 0) exit(1);
            done += written;
        }
    }
}

/* Writes `length` bytes of frame and reads as many back into echo, both at once (poll), so a
 * frame larger than the socket's buffers cannot deadlock against the echo; 0 if they match (an
 * echo_round_trip: context points at the socket). */
static int round_trip(void *context, const unsigned char *frame, unsigned char *echo, int length) {
    int socket_fd = *(int *)context;
    int sent = 0, received = 0;
    while (received < length) {
        struct pollfd descriptor = {socket_fd, POLLIN | (sent < length ? POLLOUT : 0), 0};
        int ready = poll(&descriptor, 1, 5000);
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) fail("poll");
        if (ready == 0) { fprintf(stderr, "socket-echo: no echo within 5 s\n"); exit(1); }
        if ((descriptor.revents & POLLOUT) && sent < length) {
            ssize_t written = write(socket_fd, frame + sent, length - sent);
            if (written < 0 && errno != EAGAIN && errno != EINTR) fail("write");
            if (written > 0) sent += written;
        }
        if (descriptor.revents & (POLLIN | POLLHUP)) {
            ssize_t count = read(socket_fd, echo + received, length - received);
            if (count < 0 && errno != EAGAIN && errno != EINTR) fail("read");
            if (count == 0) { fprintf(stderr, "socket-echo: the echo server closed\n"); exit(1); }
            if (count > 0) received += count;
        }
    }
    return memcmp(frame, echo, length) != 0;
}

int main(int argc, char **argv) {
    int pings = 300;
    double seconds = 1;
    const char *path = "/run/socket-echo.sock";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--pings") == 0) pings = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0) seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--path") == 0) path = argv[i + 1];
    }
    signal(SIGPIPE, SIG_IGN);  /* a vanished server fails a write with EPIPE, reported, not a silent death */
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof address.sun_path) { fprintf(stderr, "socket-echo: path too long\n"); return 1; }
    strcpy(address.sun_path, path);
    unlink(path);
    int listener = socket(AF_UNIX, SOCK_STREAM, 0);
    if (listener < 0) fail("socket");
    if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0) fail("bind");
    if (listen(listener, 1) != 0) fail("listen");
    pid_t server = fork();
    if (server < 0) fail("fork");
    if (server == 0) serve(listener);
    close(listener);
    int socket_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (socket_fd < 0) fail("socket");
    if (connect(socket_fd, (struct sockaddr *)&address, sizeof address) != 0) fail("connect");

    int failed = measure_echo("socket-echo", "socket-echo", round_trip, &socket_fd, pings, seconds);
    close(socket_fd);
    int status = 0;
    waitpid(server, &status, 0);
    unlink(path);
    return !failed && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

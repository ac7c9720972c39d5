/*
 * notify-recv: the host's end of NOTIFY_SOCKET (what systemd or podman listens on).
 *
 * Usage: notify-recv SOCKET OUTFILE
 *
 * Binds a unix datagram socket at SOCKET (mode 0777) and appends every datagram it receives to
 * OUTFILE, each followed by "\n--\n"; a datagram that carried file descriptors (BARRIER=1 passes
 * one) gets a line "[fds N]" first, and the descriptors are closed, which is how systemd
 * acknowledges a barrier. Runs until killed. SOCKET is removed on SIGTERM/SIGINT.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static const char *sock_path;

static void on_signal(int sig)
{
	(void)sig;
	unlink(sock_path);
	_exit(0);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: notify-recv SOCKET OUTFILE\n");
		return 64;
	}
	sock_path = argv[1];
	struct sockaddr_un addr;
	memset(&addr, 0, sizeof addr);
	addr.sun_family = AF_UNIX;
	if (strlen(sock_path) >= sizeof addr.sun_path) {
		fprintf(stderr, "notify-recv: path too long\n");
		return 1;
	}
	strcpy(addr.sun_path, sock_path);
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof addr) < 0 || chmod(sock_path, 0777) < 0) {
		perror("notify-recv: bind");
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	for (;;) {
		char buf[4096];
		union { char b[CMSG_SPACE(16 * sizeof(int))]; struct cmsghdr align; } control;
		struct iovec iov = { buf, sizeof buf };
		struct msghdr msg;
		memset(&msg, 0, sizeof msg);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = control.b;
		msg.msg_controllen = sizeof control.b;
		ssize_t n = recvmsg(s, &msg, MSG_CMSG_CLOEXEC);
		if (n < 0)
			continue;
		FILE *out = fopen(argv[2], "a");
		if (!out)
			return 1;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			int nfds = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			fprintf(out, "[fds %d]\n", nfds);
			for (int k = 0; k < nfds; k++) {
				int fd;
				memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof fd);
				close(fd);
			}
		}
		fwrite(buf, 1, (size_t)n, out);
		fputs("\n--\n", out);
		fclose(out);
	}
}

/*
 * console-recv: the receiving end of a runtime's --console-socket.
 *
 * Usage: console-recv SOCKET OUTFILE
 *
 * Listens on the unix socket SOCKET, accepts one connection, receives one
 * file descriptor (the pty master, sent with SCM_RIGHTS), then copies what
 * the container writes to its terminal into OUTFILE until the terminal is
 * closed (EOF or EIO). Exits 0 when a descriptor was received, 1 otherwise.
 * SOCKET is removed on exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *sock_path;

static void cleanup(void)
{
	if (sock_path)
		unlink(sock_path);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: console-recv SOCKET OUTFILE\n");
		return 64;
	}
	sock_path = argv[1];
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(argv[1]) >= sizeof sa.sun_path) {
		fprintf(stderr, "console-recv: socket path too long\n");
		return 64;
	}
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 1) < 0) {
		perror("console-recv: listen");
		return 1;
	}
	atexit(cleanup);
	int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0) {
		perror("console-recv: accept");
		return 1;
	}
	char name[512];
	char ctrl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {name, sizeof name - 1};
	struct msghdr mh;
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctrl;
	mh.msg_controllen = sizeof ctrl;
	ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
	if (n < 0) {
		perror("console-recv: recvmsg");
		return 1;
	}
	int master = -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&master, CMSG_DATA(cm), sizeof(int));
	close(c);
	close(ls);
	if (master < 0) {
		fprintf(stderr, "console-recv: no file descriptor received\n");
		return 1;
	}
	int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		perror("console-recv: open output");
		return 1;
	}
	char buf[65536];
	for (;;) {
		ssize_t r = read(master, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (ssize_t off = 0; off < r;) {
			ssize_t w = write(out, buf + off, (size_t)(r - off));
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return 1;
			}
			off += w;
		}
	}
	close(out);
	return 0;
}

/*
 * probe: a tiny static program that runs inside a container and reports, as
 * ONE JSON object on stdout (a single line ending in '\n'), what it sees.
 *
 * Usage:
 *   probe [OPTION...] [ACTION...]
 *
 *   probe --syscalls NR...   (alone: see syscalls_mode)
 *
 * Options (anywhere before the first action):
 *   -n, --no-report     do not print the report (useful with `sleep`)
 *   -o, --out PATH      also write the report to PATH (inside the container)
 *
 * Report actions: run in argv order BEFORE the report is printed; each one
 * appends a result object to the report's "actions" array (in order):
 *   read PATH           read up to 64 KiB of PATH
 *                         -> {op,path,ok,errno,error,data}
 *   write PATH          open PATH O_WRONLY|O_CREAT (mode 0644), write NOTHING,
 *                       close: safe on /proc/sysrq-trigger and sysctl files;
 *                       tells whether a write is permitted
 *                         -> {op,path,ok,errno,error}
 *   put PATH DATA       open PATH O_WRONLY|O_CREAT|O_TRUNC and write DATA
 *                         -> {op,path,ok,errno,error}
 *   stat PATH           lstat PATH (+ statvfs on it)
 *                         -> {op,path,ok,errno,error,type,mode,uid,gid,major,
 *                             minor,size,ino,target,readonly}
 *   ls PATH             list a directory -> {op,path,ok,errno,error,entries[]}
 *   mkdir PATH          mkdir PATH 0755 -> {op,path,ok,errno,error}
 *   sysctl NAME         read /proc/sys/NAME (dots become slashes); the value
 *                       (trimmed) goes to report.sysctl[NAME], and an action
 *                       {op,path:NAME,ok,errno,error,data} is appended
 *   stdin               read stdin to EOF -> {op,ok,errno,error,data}
 *   uname               (no-op kept for symmetry: uname is always reported)
 *
 * Post actions: run in argv order AFTER the report is printed and flushed:
 *   sleep SECONDS       sleep (fractions allowed)
 *   exit N              exit with status N immediately
 *   wait-signal FILE    catch every catchable signal, wait for one; then write
 *                       its number and '\n' to FILE (unless FILE is "-") and
 *                       exit 128+signal
 *   pause               wait forever (pid 1 ignores unhandled SIGTERM: use
 *                       SIGKILL, or wait-signal)
 *   notify MESSAGE      send MESSAGE as one datagram to the unix socket named by
 *                       $NOTIFY_SOCKET (sd_notify; "@name" is abstract); exit 1
 *                       with a message on stderr when it cannot
 * Without `exit`, the probe exits 0 (failures of report actions are only
 * reported, never fatal). Unknown arguments: message on stderr, exit 64.
 *
 * Report (top-level keys, all always present; values that cannot be read are
 * null):
 *   probe: 1 (interface version), argv[]
 *   pid, ppid, pgid, sid
 *   hostname, domainname, uname {sysname,release,version,machine}
 *   personality: number (personality(0xffffffff))
 *   uid,gid,euid,egid,suid,sgid,fsuid,fsgid: numbers
 *   groups: number[] (getgroups, in kernel order)
 *   cwd: string, umask: number (also umask_octal "0022")
 *   env: string[] ("KEY=VALUE", in environ order, like config.json)
 *   caps: {effective,permitted,inheritable,bounding,ambient}:
 *           {hex:"000001ffffffffff", names:["CAP_CHOWN",...]}
 *         (unknown bits are named "CAP_<n>")
 *   no_new_privs: boolean (prctl PR_GET_NO_NEW_PRIVS)
 *   seccomp: number (0 disabled, 1 strict, 2 filter, from /proc/self/status),
 *   seccomp_filters: number|null
 *   oom_score_adj: number
 *   rlimits: {"RLIMIT_NOFILE":{soft,hard},...} for all 16 limits;
 *            RLIM_INFINITY is reported as -1
 *   mounts: [{id,parent,dev,root,mount_point,options[],optional[],
 *            propagation,fstype,source,super_options[]}] from
 *            /proc/self/mountinfo, octal escapes decoded; propagation is one
 *            of "private","shared","slave","shared,slave","unbindable"
 *   ns: {"pid":"pid:[4026531836]",...} readlink of every entry of /proc/self/ns
 *   cgroup: [{hierarchy:number, controllers:string, path:string}]
 *   uid_map, gid_map: [[inside,outside,count],...], setgroups: string|null
 *   devices: [{path,type,major,minor,mode,uid,gid,target}] lstat of /dev and
 *            below (depth <= 2); type: c b d l f p s; mode = st_mode & 07777;
 *            target is the symlink target or null
 *   fds: [{fd,target}] open fds (from /proc/self/fd, the listing fd excluded)
 *   stdio: [{fd,isatty,target}] for 0..2
 *   root_readonly: boolean (statvfs("/") has ST_RDONLY)
 *   sysctl: {NAME: "value"} for every `sysctl NAME` action
 *   label: string|null (/proc/self/attr/current)
 *   clocks: {monotonic, boottime, realtime}: seconds (float) from clock_gettime
 *   winsize: {rows, cols} of the terminal on fd 0 (TIOCGWINSZ), or null
 *   actions: [...] results of the report actions
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifndef PR_GET_NO_NEW_PRIVS
#define PR_GET_NO_NEW_PRIVS 39
#endif

extern char **environ;

/* ------------------------------------------------------------ buffers */

typedef struct {
	char *p;
	size_t len, cap;
} buf_t;

static void die_oom(void)
{
	static const char m[] = "probe: out of memory\n";
	if (write(2, m, sizeof m - 1) < 0) {
	}
	_exit(70);
}

static void b_put(buf_t *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t c = b->cap ? b->cap : 4096;
		while (c < b->len + n + 1)
			c *= 2;
		char *q = realloc(b->p, c);
		if (!q)
			die_oom();
		b->p = q;
		b->cap = c;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void b_s(buf_t *b, const char *s) { b_put(b, s, strlen(s)); }

static void b_f(buf_t *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof tmp)
		n = sizeof tmp - 1;
	b_put(b, tmp, (size_t)n);
}

/* ------------------------------------------------------------ JSON writer */

/* Length of a valid UTF-8 sequence starting at s (max n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t need;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 2, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		need = 3, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 4, min = 0x10000;
	else
		return 0;
	if (n < need)
		return 0;
	unsigned cp = c & (0xff >> (need + 1));
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

/* JSON string of n bytes; invalid UTF-8 bytes are mapped as Latin-1. */
static void j_strn(buf_t *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	b_put(b, "\"", 1);
	for (size_t i = 0; i < n;) {
		unsigned c = u[i];
		if (c == '"') {
			b_s(b, "\\\""), i++;
		} else if (c == '\\') {
			b_s(b, "\\\\"), i++;
		} else if (c == '\n') {
			b_s(b, "\\n"), i++;
		} else if (c == '\r') {
			b_s(b, "\\r"), i++;
		} else if (c == '\t') {
			b_s(b, "\\t"), i++;
		} else if (c < 0x20 || c == 0x7f) {
			b_f(b, "\\u%04x", c), i++;
		} else if (c < 0x80) {
			b_put(b, (const char *)u + i, 1), i++;
		} else {
			size_t l = utf8_len(u + i, n - i);
			if (l) {
				b_put(b, (const char *)u + i, l);
				i += l;
			} else {
				b_f(b, "\\u%04x", c), i++;
			}
		}
	}
	b_put(b, "\"", 1);
}

static void j_str(buf_t *b, const char *s)
{
	if (!s)
		b_s(b, "null");
	else
		j_strn(b, s, strlen(s));
}

static void j_key(buf_t *b, const char *k)
{
	j_str(b, k);
	b_put(b, ":", 1);
}

/* ------------------------------------------------------------ helpers */

static char *read_file(const char *path, size_t max, size_t *outlen, int *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (err)
			*err = errno;
		return NULL;
	}
	size_t cap = 4096, len = 0;
	char *p = malloc(cap + 1);
	if (!p)
		die_oom();
	for (;;) {
		if (len == cap) {
			if (cap >= max)
				break;
			cap *= 2;
			p = realloc(p, cap + 1);
			if (!p)
				die_oom();
		}
		size_t want = cap - len;
		if (len + want > max)
			want = max - len;
		if (want == 0)
			break;
		ssize_t r = read(fd, p + len, want);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (err)
				*err = errno;
			close(fd);
			free(p);
			return NULL;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	p[len] = 0;
	if (outlen)
		*outlen = len;
	if (err)
		*err = 0;
	return p;
}

static void rtrim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = 0;
}

/* Value of "Key:\t..." in /proc/self/status, or NULL (static buffer). */
static char *status_text;
static const char *status_field(const char *key)
{
	static char val[256];
	if (!status_text)
		status_text = read_file("/proc/self/status", 1 << 16, NULL, NULL);
	if (!status_text)
		return NULL;
	size_t kl = strlen(key);
	const char *p = status_text;
	while (p && *p) {
		if (!strncmp(p, key, kl) && p[kl] == ':') {
			p += kl + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			size_t n = strcspn(p, "\n");
			if (n >= sizeof val)
				n = sizeof val - 1;
			memcpy(val, p, n);
			val[n] = 0;
			return val;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

static void j_errfields(buf_t *b, int ok, int err)
{
	b_f(b, "\"ok\":%s,\"errno\":%d,\"error\":", ok ? "true" : "false",
	    ok ? 0 : err);
	if (ok)
		b_s(b, "null");
	else
		j_str(b, strerror(err));
}

static const char *errno_name(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EACCES: return "EACCES";
	case EROFS: return "EROFS";
	case EEXIST: return "EEXIST";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case ENXIO: return "ENXIO";
	case ENODEV: return "ENODEV";
	case EBUSY: return "EBUSY";
	case ENOSPC: return "ENOSPC";
	case EIO: return "EIO";
	default: return NULL;
	}
}

/* ------------------------------------------------------------ sections */

static const char *cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

static void j_capset(buf_t *b, const char *field)
{
	const char *v = status_field(field);
	if (!v) {
		b_s(b, "null");
		return;
	}
	unsigned long long mask = strtoull(v, NULL, 16);
	b_s(b, "{\"hex\":");
	j_str(b, v);
	b_s(b, ",\"names\":[");
	int first = 1;
	for (int i = 0; i < 64; i++) {
		if (!(mask & (1ULL << i)))
			continue;
		if (!first)
			b_s(b, ",");
		first = 0;
		if (i < (int)(sizeof cap_names / sizeof cap_names[0]))
			j_str(b, cap_names[i]);
		else
			b_f(b, "\"CAP_%d\"", i);
	}
	b_s(b, "]}");
}

static void j_caps(buf_t *b)
{
	b_s(b, "{\"effective\":");
	j_capset(b, "CapEff");
	b_s(b, ",\"permitted\":");
	j_capset(b, "CapPrm");
	b_s(b, ",\"inheritable\":");
	j_capset(b, "CapInh");
	b_s(b, ",\"bounding\":");
	j_capset(b, "CapBnd");
	b_s(b, ",\"ambient\":");
	j_capset(b, "CapAmb");
	b_s(b, "}");
}

static const struct {
	const char *name;
	int res;
} rlims[] = {
	{"RLIMIT_CPU", RLIMIT_CPU},       {"RLIMIT_FSIZE", RLIMIT_FSIZE},
	{"RLIMIT_DATA", RLIMIT_DATA},     {"RLIMIT_STACK", RLIMIT_STACK},
	{"RLIMIT_CORE", RLIMIT_CORE},     {"RLIMIT_RSS", RLIMIT_RSS},
	{"RLIMIT_NPROC", RLIMIT_NPROC},   {"RLIMIT_NOFILE", RLIMIT_NOFILE},
	{"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_AS", RLIMIT_AS},
	{"RLIMIT_LOCKS", RLIMIT_LOCKS},   {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
	{"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
	{"RLIMIT_RTPRIO", RLIMIT_RTPRIO}, {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

static void j_rlim_val(buf_t *b, rlim_t v)
{
	if (v == RLIM_INFINITY)
		b_s(b, "-1");
	else
		b_f(b, "%llu", (unsigned long long)v);
}

static void j_rlimits(buf_t *b)
{
	b_s(b, "{");
	for (size_t i = 0; i < sizeof rlims / sizeof rlims[0]; i++) {
		struct rlimit rl;
		if (i)
			b_s(b, ",");
		j_key(b, rlims[i].name);
		if (getrlimit(rlims[i].res, &rl) < 0) {
			b_s(b, "null");
			continue;
		}
		b_s(b, "{\"soft\":");
		j_rlim_val(b, rl.rlim_cur);
		b_s(b, ",\"hard\":");
		j_rlim_val(b, rl.rlim_max);
		b_s(b, "}");
	}
	b_s(b, "}");
}

/* Decode mountinfo octal escapes (\040 etc.) in place. */
static void unoctal(char *s)
{
	char *w = s;
	for (char *r = s; *r;) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' &&
		    r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) |
				      (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = 0;
}

static void j_csv_array(buf_t *b, char *s)
{
	b_s(b, "[");
	int first = 1;
	char *save = NULL;
	for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!first)
			b_s(b, ",");
		first = 0;
		unoctal(t);
		j_str(b, t);
	}
	b_s(b, "]");
}

static void j_mounts(buf_t *b)
{
	char *text = read_file("/proc/self/mountinfo", 1 << 22, NULL, NULL);
	if (!text) {
		b_s(b, "null");
		return;
	}
	b_s(b, "[");
	int firstm = 1;
	char *lsave = NULL;
	for (char *line = strtok_r(text, "\n", &lsave); line;
	     line = strtok_r(NULL, "\n", &lsave)) {
		char *f[64];
		int nf = 0;
		char *save = NULL;
		for (char *t = strtok_r(line, " ", &save); t && nf < 64;
		     t = strtok_r(NULL, " ", &save))
			f[nf++] = t;
		int sep = -1;
		for (int i = 6; i < nf; i++)
			if (!strcmp(f[i], "-")) {
				sep = i;
				break;
			}
		if (nf < 7 || sep < 0 || sep + 3 > nf)
			continue;
		if (!firstm)
			b_s(b, ",");
		firstm = 0;
		unoctal(f[3]);
		unoctal(f[4]);
		b_f(b, "{\"id\":%s,\"parent\":%s,\"dev\":", f[0], f[1]);
		j_str(b, f[2]);
		b_s(b, ",\"root\":");
		j_str(b, f[3]);
		b_s(b, ",\"mount_point\":");
		j_str(b, f[4]);
		b_s(b, ",\"options\":");
		j_csv_array(b, f[5]);
		b_s(b, ",\"optional\":[");
		int shared = 0, slave = 0, unbind = 0;
		for (int i = 6; i < sep; i++) {
			if (i > 6)
				b_s(b, ",");
			j_str(b, f[i]);
			if (!strncmp(f[i], "shared:", 7))
				shared = 1;
			else if (!strncmp(f[i], "master:", 7))
				slave = 1;
			else if (!strcmp(f[i], "unbindable"))
				unbind = 1;
		}
		b_s(b, "],\"propagation\":");
		j_str(b, unbind ? "unbindable"
				: shared && slave ? "shared,slave"
				: shared ? "shared"
				: slave ? "slave"
				: "private");
		unoctal(f[sep + 1]);
		unoctal(f[sep + 2]);
		b_s(b, ",\"fstype\":");
		j_str(b, f[sep + 1]);
		b_s(b, ",\"source\":");
		j_str(b, f[sep + 2]);
		b_s(b, ",\"super_options\":");
		if (sep + 3 < nf)
			j_csv_array(b, f[sep + 3]);
		else
			b_s(b, "[]");
		b_s(b, "}");
	}
	b_s(b, "]");
	free(text);
}

static void j_ns(buf_t *b)
{
	DIR *d = opendir("/proc/self/ns");
	if (!d) {
		b_s(b, "null");
		return;
	}
	b_s(b, "{");
	int first = 1;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char p[PATH_MAX], t[PATH_MAX];
		snprintf(p, sizeof p, "/proc/self/ns/%s", e->d_name);
		ssize_t n = readlink(p, t, sizeof t - 1);
		if (!first)
			b_s(b, ",");
		first = 0;
		j_key(b, e->d_name);
		if (n < 0) {
			b_s(b, "null");
		} else {
			t[n] = 0;
			j_str(b, t);
		}
	}
	closedir(d);
	b_s(b, "}");
}

static void j_cgroup(buf_t *b)
{
	char *text = read_file("/proc/self/cgroup", 1 << 16, NULL, NULL);
	if (!text) {
		b_s(b, "null");
		return;
	}
	b_s(b, "[");
	int first = 1;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':');
		if (!c1)
			continue;
		char *c2 = strchr(c1 + 1, ':');
		if (!c2)
			continue;
		*c1 = 0;
		*c2 = 0;
		if (!first)
			b_s(b, ",");
		first = 0;
		b_f(b, "{\"hierarchy\":%ld,\"controllers\":", strtol(line, NULL, 10));
		j_str(b, c1 + 1);
		b_s(b, ",\"path\":");
		j_str(b, c2 + 1);
		b_s(b, "}");
	}
	b_s(b, "]");
	free(text);
}

static void j_idmap(buf_t *b, const char *path)
{
	char *text = read_file(path, 1 << 16, NULL, NULL);
	if (!text) {
		b_s(b, "null");
		return;
	}
	b_s(b, "[");
	int first = 1;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long a, c, d;
		if (sscanf(line, "%llu %llu %llu", &a, &c, &d) != 3)
			continue;
		if (!first)
			b_s(b, ",");
		first = 0;
		b_f(b, "[%llu,%llu,%llu]", a, c, d);
	}
	b_s(b, "]");
	free(text);
}

static char type_char(mode_t m)
{
	if (S_ISCHR(m)) return 'c';
	if (S_ISBLK(m)) return 'b';
	if (S_ISDIR(m)) return 'd';
	if (S_ISLNK(m)) return 'l';
	if (S_ISFIFO(m)) return 'p';
	if (S_ISSOCK(m)) return 's';
	return 'f';
}

static void j_dev_entry(buf_t *b, const char *path, const struct stat *st,
			int *first)
{
	if (!*first)
		b_s(b, ",");
	*first = 0;
	b_s(b, "{\"path\":");
	j_str(b, path);
	b_f(b, ",\"type\":\"%c\",\"major\":%u,\"minor\":%u,\"mode\":%u,\"uid\":%u,"
	       "\"gid\":%u,\"target\":",
	    type_char(st->st_mode), major(st->st_rdev), minor(st->st_rdev),
	    (unsigned)(st->st_mode & 07777), (unsigned)st->st_uid,
	    (unsigned)st->st_gid);
	if (S_ISLNK(st->st_mode)) {
		char t[PATH_MAX];
		ssize_t n = readlink(path, t, sizeof t - 1);
		if (n >= 0) {
			t[n] = 0;
			j_str(b, t);
		} else {
			b_s(b, "null");
		}
	} else {
		b_s(b, "null");
	}
	b_s(b, "}");
}

static void walk_dev(buf_t *b, const char *dir, int depth, int *first)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char p[PATH_MAX];
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(p, &st) < 0)
			continue;
		j_dev_entry(b, p, &st, first);
		if (S_ISDIR(st.st_mode) && depth < 2)
			walk_dev(b, p, depth + 1, first);
	}
	closedir(d);
}

static void j_devices(buf_t *b)
{
	b_s(b, "[");
	int first = 1;
	walk_dev(b, "/dev", 1, &first);
	b_s(b, "]");
}

static void j_fds(buf_t *b)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d) {
		b_s(b, "null");
		return;
	}
	int self = dirfd(d);
	b_s(b, "[");
	int first = 1;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		int fd = atoi(e->d_name);
		if (fd == self)
			continue;
		char p[64], t[PATH_MAX];
		snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
		ssize_t n = readlink(p, t, sizeof t - 1);
		if (!first)
			b_s(b, ",");
		first = 0;
		b_f(b, "{\"fd\":%d,\"target\":", fd);
		if (n >= 0) {
			t[n] = 0;
			j_str(b, t);
		} else {
			b_s(b, "null");
		}
		b_s(b, "}");
	}
	closedir(d);
	b_s(b, "]");
}

static void j_stdio(buf_t *b)
{
	b_s(b, "[");
	for (int fd = 0; fd < 3; fd++) {
		char p[64], t[PATH_MAX];
		snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
		ssize_t n = readlink(p, t, sizeof t - 1);
		if (fd)
			b_s(b, ",");
		b_f(b, "{\"fd\":%d,\"isatty\":%s,\"target\":", fd,
		    isatty(fd) ? "true" : "false");
		if (n >= 0) {
			t[n] = 0;
			j_str(b, t);
		} else {
			b_s(b, "null");
		}
		b_s(b, "}");
	}
	b_s(b, "]");
}

static void j_env(buf_t *b)
{
	b_s(b, "[");
	for (char **e = environ; e && *e; e++) {
		if (e != environ)
			b_s(b, ",");
		j_str(b, *e);
	}
	b_s(b, "]");
}

static void j_text_trim(buf_t *b, const char *path)
{
	char *t = read_file(path, 1 << 16, NULL, NULL);
	if (!t) {
		b_s(b, "null");
		return;
	}
	rtrim(t);
	j_str(b, t);
	free(t);
}

/* ------------------------------------------------------------ actions */

static buf_t actions;  /* JSON array body of action results */
static buf_t sysctls;  /* JSON object body of sysctl values */
static int n_actions, n_sysctls;

static void act_begin(const char *op, const char *path)
{
	if (n_actions++)
		b_s(&actions, ",");
	b_s(&actions, "{\"op\":");
	j_str(&actions, op);
	b_s(&actions, ",\"path\":");
	j_str(&actions, path);
	b_s(&actions, ",");
}

static void act_errname(int ok, int err)
{
	b_s(&actions, ",\"errno_name\":");
	j_str(&actions, ok ? NULL : errno_name(err));
}

static void act_read(const char *path)
{
	int err = 0;
	size_t len = 0;
	char *t = read_file(path, 1 << 16, &len, &err);
	act_begin("read", path);
	j_errfields(&actions, t != NULL, err);
	act_errname(t != NULL, err);
	b_s(&actions, ",\"data\":");
	if (t)
		j_strn(&actions, t, len);
	else
		b_s(&actions, "null");
	b_s(&actions, "}");
	free(t);
}

static void act_write(const char *path, const char *data, int trunc)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (trunc ? O_TRUNC : 0),
		      0644);
	int err = fd < 0 ? errno : 0;
	if (fd >= 0 && data) {
		size_t n = strlen(data), off = 0;
		while (off < n) {
			ssize_t w = write(fd, data + off, n - off);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				err = errno;
				break;
			}
			off += (size_t)w;
		}
	}
	if (fd >= 0 && close(fd) < 0 && !err)
		err = errno;
	act_begin(data ? "put" : "write", path);
	j_errfields(&actions, err == 0, err);
	act_errname(err == 0, err);
	b_s(&actions, "}");
}

static void act_stat(const char *path)
{
	struct stat st;
	int ok = lstat(path, &st) == 0;
	int err = ok ? 0 : errno;
	act_begin("stat", path);
	j_errfields(&actions, ok, err);
	act_errname(ok, err);
	if (ok) {
		b_f(&actions,
		    ",\"type\":\"%c\",\"mode\":%u,\"uid\":%u,\"gid\":%u,\"major\":%u,"
		    "\"minor\":%u,\"size\":%lld,\"ino\":%llu,\"nlink\":%llu,"
		    "\"dev_major\":%u,\"dev_minor\":%u,\"target\":",
		    type_char(st.st_mode), (unsigned)(st.st_mode & 07777),
		    (unsigned)st.st_uid, (unsigned)st.st_gid, major(st.st_rdev),
		    minor(st.st_rdev), (long long)st.st_size,
		    (unsigned long long)st.st_ino, (unsigned long long)st.st_nlink,
		    major(st.st_dev), minor(st.st_dev));
		if (S_ISLNK(st.st_mode)) {
			char t[PATH_MAX];
			ssize_t n = readlink(path, t, sizeof t - 1);
			if (n >= 0) {
				t[n] = 0;
				j_str(&actions, t);
			} else {
				b_s(&actions, "null");
			}
		} else {
			b_s(&actions, "null");
		}
		struct statvfs vfs;
		b_s(&actions, ",\"readonly\":");
		if (statvfs(path, &vfs) == 0)
			b_s(&actions, (vfs.f_flag & ST_RDONLY) ? "true" : "false");
		else
			b_s(&actions, "null");
	}
	b_s(&actions, "}");
}

static void act_ls(const char *path)
{
	DIR *d = opendir(path);
	int err = d ? 0 : errno;
	act_begin("ls", path);
	j_errfields(&actions, d != NULL, err);
	act_errname(d != NULL, err);
	b_s(&actions, ",\"entries\":");
	if (!d) {
		b_s(&actions, "null}");
		return;
	}
	b_s(&actions, "[");
	int first = 1;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (!first)
			b_s(&actions, ",");
		first = 0;
		j_str(&actions, e->d_name);
	}
	closedir(d);
	b_s(&actions, "]}");
}

static void act_mkdir(const char *path)
{
	int ok = mkdir(path, 0755) == 0;
	int err = ok ? 0 : errno;
	act_begin("mkdir", path);
	j_errfields(&actions, ok, err);
	act_errname(ok, err);
	b_s(&actions, "}");
}

static void act_sysctl(const char *name)
{
	char p[PATH_MAX];
	size_t n = (size_t)snprintf(p, sizeof p, "/proc/sys/%s", name);
	for (size_t i = strlen("/proc/sys/"); i < n && i < sizeof p; i++)
		if (p[i] == '.')
			p[i] = '/';
	int err = 0;
	char *t = read_file(p, 1 << 16, NULL, &err);
	if (t)
		rtrim(t);
	act_begin("sysctl", name);
	j_errfields(&actions, t != NULL, err);
	act_errname(t != NULL, err);
	b_s(&actions, ",\"data\":");
	j_str(&actions, t);
	b_s(&actions, "}");
	if (n_sysctls++)
		b_s(&sysctls, ",");
	j_key(&sysctls, name);
	j_str(&sysctls, t);
	free(t);
}

static void act_stdin(void)
{
	buf_t in = {0};
	char tmp[4096];
	int err = 0;
	for (;;) {
		ssize_t r = read(0, tmp, sizeof tmp);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			break;
		}
		if (r == 0)
			break;
		b_put(&in, tmp, (size_t)r);
	}
	act_begin("stdin", NULL);
	j_errfields(&actions, err == 0, err);
	act_errname(err == 0, err);
	b_s(&actions, ",\"data\":");
	j_strn(&actions, in.p ? in.p : "", in.len);
	b_s(&actions, "}");
	free(in.p);
}

/* ------------------------------------------------------------ post actions */

static volatile sig_atomic_t got_signal;
static void on_signal(int s) { got_signal = s; }

static void do_wait_signal(const char *file)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigfillset(&sa.sa_mask);
	for (int s = 1; s < 65; s++) {
		if (s == SIGKILL || s == SIGSTOP)
			continue;
		sigaction(s, &sa, NULL);
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	while (!got_signal)
		pause();
	int s = got_signal;
	if (strcmp(file, "-")) {
		int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0) {
			char t[16];
			int n = snprintf(t, sizeof t, "%d\n", s);
			if (write(fd, t, (size_t)n) < 0) {
			}
			close(fd);
		}
	}
	_exit(128 + s);
}

static void do_sleep(const char *arg)
{
	double secs = strtod(arg, NULL);
	if (secs < 0)
		secs = 0;
	struct timespec ts;
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
	}
}

/* ------------------------------------------------------------ main */

static void usage(const char *msg, const char *arg)
{
	fprintf(stderr, "probe: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	exit(64);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * probe --syscalls NR...: calls each syscall number with zero arguments and prints
 * "NR=ERRNO" (0: it succeeded), one a line, with nothing but write and exit_group
 * around it: for seccomp profiles too small for the report.
 */
static int syscalls_mode(int argc, char **argv)
{
	for (int k = 2; k < argc; k++) {
		long nr = strtol(argv[k], NULL, 10);
		long rc = syscall(nr, 0, 0, 0, 0, 0, 0);
		char line[64];
		int n = snprintf(line, sizeof line, "%ld=%d\n", nr, rc < 0 ? errno : 0);
		if (write(1, line, (size_t)n) != n)
			return 1;
	}
	return 0;
}

static void do_notify(const char *message)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un addr;
	memset(&addr, 0, sizeof addr);
	addr.sun_family = AF_UNIX;
	if (!path || !*path || strlen(path) >= sizeof addr.sun_path) {
		fprintf(stderr, "probe: notify: NOTIFY_SOCKET is unset or too long\n");
		exit(1);
	}
	memcpy(addr.sun_path, path, strlen(path));
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + (path[0] == '@' ? 0 : 1));
	if (path[0] == '@')
		addr.sun_path[0] = 0;
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || sendto(s, message, strlen(message), 0, (struct sockaddr *)&addr, len) < 0) {
		fprintf(stderr, "probe: notify %s: %s\n", path, strerror(errno));
		exit(1);
	}
	close(s);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--syscalls"))
		return syscalls_mode(argc, argv);
	int report = 1;
	const char *out = NULL;
	int i = 1;

	for (; i < argc; i++) {
		if (!strcmp(argv[i], "-n") || !strcmp(argv[i], "--no-report")) {
			report = 0;
		} else if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--out")) {
			if (++i >= argc)
				usage("missing argument", argv[i - 1]);
			out = argv[i];
		} else {
			break;
		}
	}

	/* Validate the whole argv first, so that a typo never half-runs. */
	int post_start = -1;
	for (int k = i; k < argc; k++) {
		const char *a = argv[k];
		int nargs;
		int post = 0;
		if (!strcmp(a, "read") || !strcmp(a, "write") || !strcmp(a, "stat") ||
		    !strcmp(a, "ls") || !strcmp(a, "mkdir") || !strcmp(a, "sysctl"))
			nargs = 1;
		else if (!strcmp(a, "put"))
			nargs = 2;
		else if (!strcmp(a, "stdin") || !strcmp(a, "uname"))
			nargs = 0;
		else if (!strcmp(a, "sleep") || !strcmp(a, "exit") ||
			 !strcmp(a, "wait-signal") || !strcmp(a, "notify"))
			nargs = 1, post = 1;
		else if (!strcmp(a, "pause"))
			nargs = 0, post = 1;
		else
			usage("unknown action", a);
		if (k + nargs > argc - 1)
			usage("missing argument for", a);
		if (post && post_start < 0)
			post_start = k;
		k += nargs;
	}

	/* Report actions (every non-post action, in order). */
	for (int k = i; k < argc; k++) {
		const char *a = argv[k];
		if (!strcmp(a, "read"))
			act_read(argv[++k]);
		else if (!strcmp(a, "write"))
			act_write(argv[++k], NULL, 0);
		else if (!strcmp(a, "put"))
			act_write(argv[k + 1], argv[k + 2], 1), k += 2;
		else if (!strcmp(a, "stat"))
			act_stat(argv[++k]);
		else if (!strcmp(a, "ls"))
			act_ls(argv[++k]);
		else if (!strcmp(a, "mkdir"))
			act_mkdir(argv[++k]);
		else if (!strcmp(a, "sysctl"))
			act_sysctl(argv[++k]);
		else if (!strcmp(a, "stdin"))
			act_stdin();
		else if (!strcmp(a, "sleep") || !strcmp(a, "exit") ||
			 !strcmp(a, "wait-signal") || !strcmp(a, "notify"))
			k++;
	}

	if (report || out) {
		buf_t b = {0};
		struct utsname u;
		int have_u = uname(&u) == 0;
		char cwd[PATH_MAX];
		uid_t r, e, s;
		gid_t rg, eg, sg;
		getresuid(&r, &e, &s);
		getresgid(&rg, &eg, &sg);

		b_s(&b, "{\"probe\":1,\"argv\":[");
		for (int k = 0; k < argc; k++) {
			if (k)
				b_s(&b, ",");
			j_str(&b, argv[k]);
		}
		b_f(&b, "],\"pid\":%d,\"ppid\":%d,\"pgid\":%d,\"sid\":%d", getpid(),
		    getppid(), getpgid(0), getsid(0));
		b_s(&b, ",\"hostname\":");
		j_str(&b, have_u ? u.nodename : NULL);
		b_s(&b, ",\"domainname\":");
		j_str(&b, have_u ? u.domainname : NULL);
		b_s(&b, ",\"uname\":{\"sysname\":");
		j_str(&b, have_u ? u.sysname : NULL);
		b_s(&b, ",\"release\":");
		j_str(&b, have_u ? u.release : NULL);
		b_s(&b, ",\"version\":");
		j_str(&b, have_u ? u.version : NULL);
		b_s(&b, ",\"machine\":");
		j_str(&b, have_u ? u.machine : NULL);
		b_f(&b, "},\"personality\":%d", personality(0xffffffff));
		const char *fsuid = status_field("Uid");
		unsigned a1, a2, a3, a4;
		long fu = -1, fg = -1;
		if (fsuid && sscanf(fsuid, "%u %u %u %u", &a1, &a2, &a3, &a4) == 4)
			fu = a4;
		const char *fsgid = status_field("Gid");
		if (fsgid && sscanf(fsgid, "%u %u %u %u", &a1, &a2, &a3, &a4) == 4)
			fg = a4;
		b_f(&b,
		    ",\"uid\":%u,\"gid\":%u,\"euid\":%u,\"egid\":%u,\"suid\":%u,"
		    "\"sgid\":%u,\"fsuid\":%ld,\"fsgid\":%ld",
		    (unsigned)r, (unsigned)rg, (unsigned)e, (unsigned)eg,
		    (unsigned)s, (unsigned)sg, fu, fg);
		b_s(&b, ",\"groups\":[");
		gid_t groups[NGROUPS_MAX > 65536 ? 65536 : NGROUPS_MAX];
		int ng = getgroups(sizeof groups / sizeof groups[0], groups);
		for (int k = 0; k < ng; k++)
			b_f(&b, "%s%u", k ? "," : "", (unsigned)groups[k]);
		b_s(&b, "],\"cwd\":");
		j_str(&b, getcwd(cwd, sizeof cwd));
		mode_t um = umask(0);
		umask(um);
		b_f(&b, ",\"umask\":%u,\"umask_octal\":\"%04o\"", (unsigned)um,
		    (unsigned)um);
		b_s(&b, ",\"env\":");
		j_env(&b);
		b_s(&b, ",\"caps\":");
		j_caps(&b);
		int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
		b_f(&b, ",\"no_new_privs\":%s", nnp == 1 ? "true" : "false");
		const char *sc = status_field("Seccomp");
		b_f(&b, ",\"seccomp\":%s", sc ? sc : "null");
		const char *scf = status_field("Seccomp_filters");
		b_f(&b, ",\"seccomp_filters\":%s", scf ? scf : "null");
		char *oom = read_file("/proc/self/oom_score_adj", 64, NULL, NULL);
		if (oom)
			rtrim(oom);
		b_f(&b, ",\"oom_score_adj\":%s", oom && *oom ? oom : "null");
		free(oom);
		b_s(&b, ",\"rlimits\":");
		j_rlimits(&b);
		b_s(&b, ",\"mounts\":");
		j_mounts(&b);
		b_s(&b, ",\"ns\":");
		j_ns(&b);
		b_s(&b, ",\"cgroup\":");
		j_cgroup(&b);
		b_s(&b, ",\"uid_map\":");
		j_idmap(&b, "/proc/self/uid_map");
		b_s(&b, ",\"gid_map\":");
		j_idmap(&b, "/proc/self/gid_map");
		b_s(&b, ",\"setgroups\":");
		j_text_trim(&b, "/proc/self/setgroups");
		b_s(&b, ",\"devices\":");
		j_devices(&b);
		b_s(&b, ",\"fds\":");
		j_fds(&b);
		b_s(&b, ",\"stdio\":");
		j_stdio(&b);
		struct statvfs vfs;
		b_s(&b, ",\"root_readonly\":");
		if (statvfs("/", &vfs) == 0)
			b_s(&b, (vfs.f_flag & ST_RDONLY) ? "true" : "false");
		else
			b_s(&b, "null");
		b_s(&b, ",\"sysctl\":{");
		if (sysctls.p)
			b_put(&b, sysctls.p, sysctls.len);
		b_s(&b, "},\"label\":");
		j_text_trim(&b, "/proc/self/attr/current");
		b_s(&b, ",\"clocks\":{");
		static const struct {
			const char *name;
			clockid_t id;
		} clocks[] = {{"monotonic", CLOCK_MONOTONIC},
			      {"boottime", CLOCK_BOOTTIME},
			      {"realtime", CLOCK_REALTIME}};
		for (size_t k = 0; k < sizeof clocks / sizeof clocks[0]; k++) {
			struct timespec ts;
			if (k)
				b_s(&b, ",");
			j_key(&b, clocks[k].name);
			if (clock_gettime(clocks[k].id, &ts) == 0)
				b_f(&b, "%lld.%09ld", (long long)ts.tv_sec, ts.tv_nsec);
			else
				b_s(&b, "null");
		}
		b_s(&b, "}");
		struct winsize ws;
		if (ioctl(0, TIOCGWINSZ, &ws) == 0)
			b_f(&b, ",\"winsize\":{\"rows\":%u,\"cols\":%u}",
			    (unsigned)ws.ws_row, (unsigned)ws.ws_col);
		else
			b_s(&b, ",\"winsize\":null");
		b_s(&b, ",\"actions\":[");
		if (actions.p)
			b_put(&b, actions.p, actions.len);
		b_s(&b, "]}\n");

		if (report && write_all(1, b.p, b.len) < 0)
			fprintf(stderr, "probe: writing stdout: %s\n", strerror(errno));
		if (out) {
			int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			if (fd < 0 || write_all(fd, b.p, b.len) < 0)
				fprintf(stderr, "probe: writing %s: %s\n", out,
					strerror(errno));
			if (fd >= 0)
				close(fd);
		}
		free(b.p);
	}

	/* Post actions, in order. */
	if (post_start >= 0) {
		for (int k = i; k < argc; k++) {
			const char *a = argv[k];
			if (!strcmp(a, "put")) {
				k += 2;
			} else if (!strcmp(a, "read") || !strcmp(a, "write") ||
				   !strcmp(a, "stat") || !strcmp(a, "ls") ||
				   !strcmp(a, "mkdir") || !strcmp(a, "sysctl")) {
				k++;
			} else if (!strcmp(a, "sleep")) {
				do_sleep(argv[++k]);
			} else if (!strcmp(a, "exit")) {
				exit((int)strtol(argv[k + 1], NULL, 10) & 0xff);
			} else if (!strcmp(a, "wait-signal")) {
				do_wait_signal(argv[++k]);
			} else if (!strcmp(a, "notify")) {
				do_notify(argv[++k]);
			} else if (!strcmp(a, "pause")) {
				for (;;)
					pause();
			}
		}
	}
	return 0;
}

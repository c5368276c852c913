/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The device nodes: opened and checked, given to a VM and back; see node.h. */
#include "node.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "format.h"
#include "host.h"

/* Fixed at build time: never taken from the environment. */
#ifndef HOSTUSB_SUDO
#define HOSTUSB_SUDO "/usr/bin/sudo"
#endif
#ifndef HOSTUSB_CHOWN
#define HOSTUSB_CHOWN "/bin/chown"
#endif
#ifndef HOSTUSB_CHMOD
#define HOSTUSB_CHMOD "/bin/chmod"
#endif

/* The node of the device at addr, inside the root ("/dev/bus/usb/BBB/DDD") and on the host. */
void node_paths(const char *root, struct usb_addr addr, char *inside, char *host, size_t host_size)
{
	sysfs_node_path(addr, inside, NODE_PATH_SIZE);
	(void)root_path(root, inside, host, host_size);   /* cut short in a message at worst */
}

void node_walk_end(struct node_walk *walk)
{
	if (walk->dir_fd >= 0)
		close(walk->dir_fd);
	walk->dir_fd = -1;
}

/*
 * openat(2) that follows no symlink on the way: openat2 with
 * RESOLVE_NO_SYMLINKS (Linux 5.6), its arguments spelled out here, as a musl
 * toolchain need not have <linux/openat2.h>.  -1 on any failure, ENOSYS too
 * (an older kernel, a seccomp filter).
 */
static int open_without_symlinks(int dir_fd, const char *path, int flags)
{
#ifdef SYS_openat2
	enum { RESOLVE_NO_SYMLINKS_BIT = 0x04 };
	struct {
		uint64_t flags, mode, resolve;
	} how = { (uint64_t)flags, 0, RESOLVE_NO_SYMLINKS_BIT };
	return (int)syscall(SYS_openat2, dir_fd, path, &how, sizeof how);
#else
	(void)dir_fd, (void)path, (void)flags;
	return -1;
#endif
}

/*
 * <root>/dev/bus/usb/BBB opened without following a symlink at any step:
 * an O_PATH descriptor, or -1 with errno set.  Every start makes this walk:
 * in one call where the kernel can, sparing seven; a step at a time where it
 * cannot, or where that call fails (the steps then say why).
 */
static int open_bus_dir(const char *top, const char *bus)
{
	char below[NODE_PATH_SIZE];
	int fd = open_path(top, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
	format(below, sizeof below, "%s/%s", NODE_DIR + 1, bus);
	int dir = fd < 0 ? -1 : open_without_symlinks(fd, below, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir >= 0) {
		close(fd);
		return dir;
	}
	for (char *step = below, *end; fd >= 0 && step; step = end ? end + 1 : NULL) {
		end = strchr(step, '/');
		if (end)
			*end = '\0';
		int next = openat(fd, step, O_PATH | O_NOFOLLOW | O_CLOEXEC | O_DIRECTORY);
		close(fd);   /* of an O_PATH descriptor: does not fail, errno stays openat's */
		fd = next;
	}
	return fd;
}

/*
 * Opens <root>/dev/bus/usb/BBB/DDD without following a symlink at any step
 * and checks it is the character device sysfs names.  Returns an O_PATH
 * descriptor, or -1 with err set; with missing_ok, -2 when the node (or a
 * directory above it) does not exist.  With walk, the bus directory is
 * taken from it when it is that of the node's bus, and left in it.
 */
int open_node(const char *root, const struct usb_device *dev, struct stat *st, bool missing_ok, struct node_walk *walk,
	      struct error *err)
{
	char top[PATH_SIZE], part[2][8], inside[NODE_PATH_SIZE], node[PATH_SIZE];
	format(part[0], sizeof part[0], "%03u", dev->addr.bus);
	format(part[1], sizeof part[1], "%03u", dev->addr.device);
	int dir_fd = walk && walk->dir_fd >= 0 && walk->bus == dev->addr.bus ? walk->dir_fd : -1;
	if (dir_fd < 0) {
		if (path_under_root(root, "/", top, sizeof top, err) < 0)
			return -1;
		dir_fd = open_bus_dir(top, part[0]);
	}
	int fd = dir_fd < 0 ? -1 : openat(dir_fd, part[1], O_PATH | O_NOFOLLOW | O_CLOEXEC);
	int saved = errno;
	if (walk && dir_fd >= 0 && dir_fd != walk->dir_fd) {
		node_walk_end(walk);
		*walk = (struct node_walk){ dev->addr.bus, dir_fd };
	} else if (!walk && dir_fd >= 0) {
		close(dir_fd);
	}
	errno = saved;
	if (fd < 0 && errno == ENOENT && missing_ok)
		return -2;
	const char *wrong = NULL;
	if (fd < 0)
		wrong = errno == ENOTDIR ? "not a directory or a symlink" : strerror(errno);
	else if (fstat(fd, st) < 0)
		wrong = strerror(errno);
	else if (!S_ISCHR(st->st_mode))
		wrong = S_ISLNK(st->st_mode) ? "a symbolic link, not a device" : "not a character device";
	else if (st->st_rdev != makedev(dev->dev_major, dev->dev_minor))
		wrong = "its device number is not the one sysfs gives";
	if (wrong) {
		node_paths(root, dev->addr, inside, node, sizeof node);
		error_set(err, "%s: %s", node, wrong);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The first line of what fd gives until EOF (the rest is read and dropped). */
static void read_first_line(int fd, char *line, size_t size)
{
	char scratch[512] = "";
	size_t len = 0;
	for (;;) {
		bool room = len < size - 1;
		ssize_t n = read(fd, room ? line + len : scratch, room ? size - 1 - len : sizeof scratch);
		if (n == 0 || (n < 0 && errno != EINTR))
			break;
		if (n > 0 && room)
			len += (size_t)n;
	}
	line[len] = '\0';
	line[strcspn(line, "\n")] = '\0';
}

/* What to do about what sudo said, when it says the rule does not apply: "" otherwise. */
static const char *sudo_fix(const char *said)
{
	static const char needs_password[] = "a password is required";
	size_t len = strlen(said), want = sizeof needs_password - 1;
	bool found = false;
	for (size_t at = 0; !found && at + want <= len; at++)
		found = memcmp(said + at, needs_password, want) == 0;
	if (!found)
		return "";
	return ": the sudo rule is missing or does not apply: check /etc/sudoers.d/50_vdsm_hook_hostusb and "
	       "`sudo -l -U vdsm`";
}

/* The Makefile names _Fork where the C library's fork() would do more than this child needs. */
#ifndef HOSTUSB_FORK
#define HOSTUSB_FORK fork
#endif

/*
 * Runs HOSTUSB_SUDO -n ARGS... (args NULL-terminated) with a fixed
 * environment and no input.  On failure err says "PATH: SUDO -n WHAT
 * failed: " and sudo's own words, what being the command as the reader
 * needs it.
 */
static int run_sudo(const char *path, const char *const *args, const char *what, struct error *err)
{
	char *argv[8] = { HOSTUSB_SUDO, "-n" };
	for (size_t i = 0; args[i] && i + 3 < sizeof argv / sizeof argv[0]; i++)
		argv[i + 2] = (char *)args[i];
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0) {
		error_set(err, "%s: pipe: %s", path, strerror(errno));
		return -1;
	}
	pid_t pid = HOSTUSB_FORK();
	if (pid < 0) {
		error_set(err, "%s: fork: %s", path, strerror(errno));
		close(out[0]);
		close(out[1]);
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
			_exit(126);
		execve(HOSTUSB_SUDO, argv, envp);
		_exit(127);
	}
	close(out[1]);
	char said[512];
	read_first_line(out[0], said, sizeof said);
	close(out[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			error_set(err, "%s: waitpid: %s", path, strerror(errno));
			return -1;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !said[0])
		error_set(err, "%s: cannot run %s", path, HOSTUSB_SUDO);
	else
		error_set(err, "%s: %s -n %s failed: %s%s", path, HOSTUSB_SUDO, what, said[0] ? said : "no reason given",
			  sudo_fix(said));
	return -1;
}

/*
 * Runs HOSTUSB_SUDO -n HOSTUSB_CHOWN -h UID:GID PATH: -h, so that a symlink
 * put at path since the node was checked is never followed.
 */
static int sudo_chown(const char *path, unsigned uid, unsigned gid, struct error *err)
{
	char owner[32], what[64];
	format(owner, sizeof owner, "%u:%u", uid, gid);
	format(what, sizeof what, "%s -h %s", HOSTUSB_CHOWN, owner);
	const char *const args[] = { HOSTUSB_CHOWN, "-h", owner, path, NULL };
	return run_sudo(path, args, what, err);
}

/*
 * Runs HOSTUSB_SUDO -n -u #OWNER HOSTUSB_CHMOD MODE PATH: the chmod runs as
 * the node's owner, so it can change nothing that user could not change
 * itself, even if path were a symlink (chmod has no -h).
 */
static int sudo_chmod(const char *path, unsigned owner, unsigned mode, struct error *err)
{
	char user[16], octal[8], what[64];
	format(user, sizeof user, "#%u", owner);
	format(octal, sizeof octal, "%04o", mode);
	format(what, sizeof what, "-u %s %s %s", user, HOSTUSB_CHMOD, octal);
	const char *const args[] = { "-u", user, HOSTUSB_CHMOD, octal, path, NULL };
	return run_sudo(path, args, what, err);
}

/*
 * After a command sudo ran on path: path must still name the node checked
 * through fd, whose state is then in *st.  done says what sudo did to
 * whatever is there ("changed the owner").
 */
static int still_the_node(int fd, const char *path, const char *done, struct stat *st, struct error *err)
{
	struct stat at_path;
	if (fstat(fd, st) < 0 || lstat(path, &at_path) < 0 || at_path.st_dev != st->st_dev ||
	    at_path.st_ino != st->st_ino) {
		error_set(err, "%s: no longer the device node that was checked (replaced or removed meanwhile): "
			  "sudo %s of what is there now, not of that node", path, done);
		return -1;
	}
	return 0;
}

/*
 * Gives the node of the device at addr, open as fd, to uid:gid: directly, or
 * through sudo when we are not root and the kernel says we may not.
 */
int chown_node(const char *root, int fd, struct usb_addr addr, unsigned uid, unsigned gid, struct error *err)
{
	if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) == 0)
		return 0;
	char inside[NODE_PATH_SIZE], path[PATH_SIZE];
	node_paths(root, addr, inside, path, sizeof path);
	/* sudo's rule names the host's /dev/bus/usb: never used under --root */
	if (errno != EPERM || geteuid() == 0 || root[0]) {
		error_set(err, "%s: chown to %u:%u: %s", path, uid, gid, strerror(errno));
		return -1;
	}
	struct stat st;
	if (sudo_chown(path, uid, gid, err) < 0 || still_the_node(fd, path, "chown changed the owner", &st, err) < 0)
		return -1;
	if (st.st_uid != uid || st.st_gid != gid) {
		error_set(err, "%s: owner did not change to %u:%u after sudo chown", path, uid, gid);
		return -1;
	}
	return 0;
}

/*
 * Not root: sets the mode of the node open as fd at path through sudo, as
 * the node's owner; never as root, so a node root owns is refused here.
 */
static int sudo_chmod_node(int fd, const char *path, unsigned mode, struct error *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0) {
		error_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (st.st_uid == 0) {
		error_set(err, "%s: root owns it, and through sudo a node's mode is set only as its owner, never as root",
			  path);
		return -1;
	}
	if (sudo_chmod(path, (unsigned)st.st_uid, mode, err) < 0 ||
	    still_the_node(fd, path, "chmod changed the mode", &st, err) < 0)
		return -1;
	if ((st.st_mode & 07777) != mode) {
		error_set(err, "%s: mode did not change to %04o after sudo chmod", path, mode);
		return -1;
	}
	return 0;
}

/*
 * Sets the mode of the node open as fd (O_PATH, which fchmod refuses), through
 * its /proc/self/fd link: the very inode checked, whatever its path names now,
 * and the device is not opened (which may have side effects).  Without /proc
 * it fails, and the caller keeps the node's journal line.  Not root, and the
 * kernel says we may not: through sudo, as the node's owner.
 */
static int chmod_node(const char *root, int fd, struct usb_addr addr, unsigned mode, struct error *err)
{
	char link[32], inside[NODE_PATH_SIZE], path[PATH_SIZE];
	format(link, sizeof link, "/proc/self/fd/%d", fd);
	if (chmod(link, mode) == 0)
		return 0;
	node_paths(root, addr, inside, path, sizeof path);
	/* as for chown: the rule names the host's nodes, never one under --root */
	if (errno != EPERM || geteuid() == 0 || root[0]) {
		error_set(err, "%s: chmod to %04o through %s: %s", path, mode, link, strerror(errno));
		return -1;
	}
	return sudo_chmod_node(fd, path, mode, err);
}

/* What err says after "PATH: ", or all of it when it does not begin so. */
const char *reason_of(const struct error *err, const char *path)
{
	size_t len = strlen(path);
	return strncmp(err->message, path, len) == 0 && strncmp(err->message + len, ": ", 2) == 0
	       ? err->message + len + 2 : err->message;
}

/*
 * Gives the node open as fd back to uid:gid and, with has_mode, to mode: the
 * mode first, while the VM's user still owns it, so that the node is never
 * root's with the mode the VM left (2666, say); then the owner; then, as
 * chown may clear set-id bits, the mode again if it lost them.  A mode that
 * cannot be set first leaves the node as it is (its owner kept, err says
 * why and what to do).  Not root, the set-id bits chown cleared stay
 * cleared (a warning in err, *mode_kept).
 */
int give_back(const char *root, int fd, struct usb_addr addr, unsigned uid, unsigned gid, bool has_mode, unsigned mode,
	      bool *mode_kept, struct error *err)
{
	char inside[NODE_PATH_SIZE], path[PATH_SIZE];
	struct stat st;
	struct error why;
	*mode_kept = false;
	node_paths(root, addr, inside, path, sizeof path);
	if (has_mode && fstat(fd, &st) == 0 && (st.st_mode & 07777) != mode &&
	    chmod_node(root, fd, addr, mode, &why) < 0) {
		error_set(err, "%s: not given back to %u:%u: its mode could not first be set back from %04o to %04o "
			  "(%s); it stays %u:%u: %s", path, uid, gid, (unsigned)st.st_mode & 07777, mode,
			  reason_of(&why, path), (unsigned)st.st_uid, (unsigned)st.st_gid,
			  geteuid() == 0 ? "once that is fixed, run after_vm_destroy for its VM again"
			  : "as root, run after_vm_destroy for its VM again (through sudo a mode is set only as the "
			    "node's owner, and the sudoers rule allows that as qemu only)");
		return -1;
	}
	if (chown_node(root, fd, addr, uid, gid, err) < 0)
		return -1;
	if (!has_mode || fstat(fd, &st) < 0 || (st.st_mode & 07777) == mode)
		return 0;
	if (geteuid() == 0)
		return chmod_node(root, fd, addr, mode, err);
	*mode_kept = true;
	error_set(err, "warning: %s: given back to %u:%u, but with mode %04o, not %04o: chown cleared a set-id bit "
		  "and only root may set it again", path, uid, gid, (unsigned)st.st_mode & 07777, mode);
	return 0;
}

/* The node's path still names the inode that was verified and chowned. */
bool node_still_in_place(const char *root, struct usb_addr addr, int fd, struct error *err)
{
	char inside[NODE_PATH_SIZE], path[PATH_SIZE];
	struct stat at_path, chowned;
	node_paths(root, addr, inside, path, sizeof path);
	if (lstat(path, &at_path) < 0 || fstat(fd, &chowned) < 0 || at_path.st_ino != chowned.st_ino ||
	    at_path.st_dev != chowned.st_dev) {
		error_set(err, "%s: replaced or removed while it was being given to the VM", path);
		return false;
	}
	return true;
}

/*
 * True for a dry run in a root with no NODE_DIR at all, where there is no node
 * to check: a chroot without /dev, or an example root built by a user who may
 * not make device nodes.  On a host whose sysfs lists USB devices devtmpfs
 * always has NODE_DIR, and a real start in such a root refuses every node.
 */
bool without_nodes(const char *root)
{
	char path[PATH_SIZE];
	struct stat st;
	if (root_path(root, NODE_DIR, path, sizeof path) < 0)
		return false;
	return lstat(path, &st) < 0 && errno == ENOENT;
}

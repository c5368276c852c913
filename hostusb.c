/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostusb: hands host USB devices to a virtual machine, as a VDSM hook.
 *
 * One binary serves three hook points, chosen by the directory it runs from:
 * before_vm_start claims the devices named by the "hostusb" custom property,
 * chowns their nodes to qemu and adds <hostdev> elements to the domain XML;
 * after_vm_destroy gives them back; before_vm_migrate_source refuses to
 * migrate a VM that uses them.  The original owners are kept in a journal so a
 * crash at any point can be undone.
 *
 * This file is the program: the hook points, the ownership of device nodes
 * and the transaction around them; which device each entry of the property
 * gets is plan.c's to decide.  Functions below the hook points return a
 * struct error; only the hook points (and the functions they hand a whole
 * step to) print.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "format.h"
#include "host.h"
#include "hostdev.h"
#include "journal.h"
#include "plan.h"
#include "request.h"
#include "sysfs.h"
#include "text.h"
#include "xmlpatch.h"

#ifndef HOSTUSB_VERSION
#define HOSTUSB_VERSION "unknown"
#endif
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

#define SYSFS_USB_DEVICES "/sys/bus/usb/devices"   /* where sysfs.c scans */
#define EXIT_HOOK_FAILED  2
/* the patched domain XML before it replaces the domain file; one name, used under the journal lock */
#define DOMAIN_TEMP_SUFFIX ".hostusb-update"

/* One requested device, from the plan to the change of its owner. */
struct claim {
	struct usb_device device;
	bool address;               /* its hostdev names bus and device: the id alone names another too */
	int node_fd;                /* O_PATH descriptor of the verified node */
	bool node_unchecked;        /* a dry run in a root without device nodes */
	unsigned old_uid, old_gid;  /* owner before this run */
	unsigned old_mode;          /* and its permission bits */
	bool changed;
};

/* Everything one run works with; built once in main. */
struct context {
	const struct options *opt;
	const char *property;       /* hostusb=..., "" when unset */
	const char *domxml;         /* _hook_domxml */
	char vmid[VMID_MAX + 1];
	unsigned uid, gid;          /* the new owner */
};

/* ---- messages ---------------------------------------------------------- */

/* One line on stderr, "hostusb: ...", written with a single write(2). */
__attribute__((format(printf, 1, 2)))
static void say(const char *fmt, ...)
{
	struct error text;
	char line[sizeof text.message + 16];
	va_list ap;
	va_start(ap, fmt);
	error_vset(&text, fmt, ap);
	va_end(ap);
	int n = format(line, sizeof line, "hostusb: %s\n", text.message);
	if (n > 0)
		(void)write_all(STDERR_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void say_error(const struct error *err)
{
	say("%s", err->message);
}

/* ---- the audit trail --------------------------------------------------- */

#define DEVICE_TEXT_SIZE (SERIAL_MAX + 64)

/* "0x0627:0x0001 serial SERK1, bus 1 device 5"; the port instead of a serial the property cannot name. */
static void device_text(const struct usb_device *dev, char *buf, size_t size)
{
	char where[SERIAL_MAX + 16] = "";
	if (dev->serial_kind == USB_SERIAL_USABLE) {
		format(where, sizeof where, " serial %s", dev->serial);
	} else if (dev->port.bus != 0) {
		char port[USB_PORT_TEXT_SIZE];
		usb_port_format(&dev->port, port, sizeof port);
		format(where, sizeof where, " port %s", port);
	}
	format(buf, size, "0x%04x:0x%04x%s, bus %u device %u", dev->id.vendor, dev->id.product, where,
	       dev->addr.bus, dev->addr.device);
}

/*
 * The line a start prints for each node it gave the VM, with the owner the
 * journal records to give back (a re-start's: the first start's).
 */
static void say_given(const char *vmid, const struct usb_device *dev, unsigned uid, unsigned gid,
		      const struct journal_entry *recorded)
{
	char inside[NODE_PATH_SIZE], device[DEVICE_TEXT_SIZE], mode[16] = "";
	sysfs_node_path(dev->addr, inside, sizeof inside);
	device_text(dev, device, sizeof device);
	if (recorded->has_mode)
		format(mode, sizeof mode, " mode %04o", recorded->mode);
	say("VM %s: gave %s (%s) to %u:%u; recorded owner %u:%u%s", vmid, inside, device, uid, gid, recorded->uid,
	    recorded->gid, mode);
}

/*
 * The line a destroy or a release prints for each node it gave back; with
 * mode_kept, one that got its owner back but not its mode.
 */
static void say_given_back(const char *vmid, const struct usb_device *dev, const struct journal_entry *e,
			   bool mode_kept)
{
	char inside[NODE_PATH_SIZE], device[DEVICE_TEXT_SIZE], mode[64] = "";
	sysfs_node_path(e->addr, inside, sizeof inside);
	device_text(dev, device, sizeof device);
	if (mode_kept)
		format(mode, sizeof mode, "; warning: not to mode %04o: chown cleared a set-id bit", e->mode);
	else if (e->has_mode)
		format(mode, sizeof mode, " mode %04o", e->mode);
	say("VM %s: gave back %s (%s) to %u:%u%s", vmid[0] ? vmid : "(no vmId)", inside, device, e->uid, e->gid,
	    mode);
}

/* ---- paths ------------------------------------------------------------- */

/* buf = root + path, where path is as seen inside the root. */
static int host_path(const struct context *ctx, const char *path, char *buf, size_t size, struct error *err)
{
	return path_under_root(ctx->opt->root, path, buf, size, err);
}

/* The node of the device at addr, inside the root ("/dev/bus/usb/BBB/DDD") and on the host. */
static void node_paths(const struct context *ctx, struct usb_addr addr, char *inside, char *host, size_t host_size)
{
	sysfs_node_path(addr, inside, NODE_PATH_SIZE);
	(void)root_path(ctx->opt->root, inside, host, host_size);   /* cut short in a message at worst */
}

/* ---- device nodes ------------------------------------------------------ */

/*
 * The directory <root>/dev/bus/usb/BBB of the last node open_node walked to,
 * kept (O_PATH) so that another node on that bus is one openat away.
 */
struct node_walk {
	unsigned bus;
	int dir_fd;   /* -1: none */
};

static void node_walk_end(struct node_walk *walk)
{
	if (walk->dir_fd >= 0)
		close(walk->dir_fd);
	walk->dir_fd = -1;
}

/*
 * <root>/dev/bus/usb/BBB opened without following a symlink at any step:
 * an O_PATH descriptor, or -1 with errno set.
 */
static int open_bus_dir(const char *top, const char *bus)
{
	const char *steps[] = { "dev", "bus", "usb", bus };
	int fd = open(top, O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; fd >= 0 && i < 4; i++) {
		int next = openat(fd, steps[i], O_PATH | O_NOFOLLOW | O_CLOEXEC | O_DIRECTORY);
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
static int open_node(const struct context *ctx, const struct usb_device *dev, struct stat *st, bool missing_ok,
		     struct node_walk *walk, struct error *err)
{
	char top[PATH_SIZE], part[2][8], inside[NODE_PATH_SIZE], node[PATH_SIZE];
	format(part[0], sizeof part[0], "%03u", dev->addr.bus);
	format(part[1], sizeof part[1], "%03u", dev->addr.device);
	int dir_fd = walk && walk->dir_fd >= 0 && walk->bus == dev->addr.bus ? walk->dir_fd : -1;
	if (dir_fd < 0) {
		if (host_path(ctx, "/", top, sizeof top, err) < 0)
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
		node_paths(ctx, dev->addr, inside, node, sizeof node);
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

/*
 * Runs HOSTUSB_SUDO -n ARGS... (args NULL-terminated) with a fixed
 * environment and no input.  On failure err says "PATH: SUDO -n WHAT
 * failed: " and sudo's own words, what being the command as the reader
 * needs it.
 */
/* The Makefile names _Fork where the C library's fork() would do more than this child needs. */
#ifndef HOSTUSB_FORK
#define HOSTUSB_FORK fork
#endif

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
static int chown_node(const struct context *ctx, int fd, struct usb_addr addr, unsigned uid, unsigned gid,
		      struct error *err)
{
	if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) == 0)
		return 0;
	char inside[NODE_PATH_SIZE], path[PATH_SIZE];
	node_paths(ctx, addr, inside, path, sizeof path);
	/* sudo's rule names the host's /dev/bus/usb: never used under --root */
	if (errno != EPERM || geteuid() == 0 || ctx->opt->root[0]) {
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
static int chmod_node(const struct context *ctx, int fd, struct usb_addr addr, unsigned mode, struct error *err)
{
	char link[32], inside[NODE_PATH_SIZE], path[PATH_SIZE];
	format(link, sizeof link, "/proc/self/fd/%d", fd);
	if (chmod(link, mode) == 0)
		return 0;
	node_paths(ctx, addr, inside, path, sizeof path);
	/* as for chown: the rule names the host's nodes, never one under --root */
	if (errno != EPERM || geteuid() == 0 || ctx->opt->root[0]) {
		error_set(err, "%s: chmod to %04o through %s: %s", path, mode, link, strerror(errno));
		return -1;
	}
	return sudo_chmod_node(fd, path, mode, err);
}

/* What err says after "PATH: ", or all of it when it does not begin so. */
static const char *reason_of(const struct error *err, const char *path)
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
static int give_back(const struct context *ctx, int fd, struct usb_addr addr, unsigned uid, unsigned gid,
		     bool has_mode, unsigned mode, bool *mode_kept, struct error *err)
{
	char inside[NODE_PATH_SIZE], path[PATH_SIZE];
	struct stat st;
	struct error why;
	*mode_kept = false;
	node_paths(ctx, addr, inside, path, sizeof path);
	if (has_mode && fstat(fd, &st) == 0 && (st.st_mode & 07777) != mode &&
	    chmod_node(ctx, fd, addr, mode, &why) < 0) {
		error_set(err, "%s: not given back to %u:%u: its mode could not first be set back from %04o to %04o "
			  "(%s); it stays %u:%u: %s", path, uid, gid, (unsigned)st.st_mode & 07777, mode,
			  reason_of(&why, path), (unsigned)st.st_uid, (unsigned)st.st_gid,
			  geteuid() == 0 ? "once that is fixed, run after_vm_destroy for its VM again"
			  : "as root, run after_vm_destroy for its VM again (through sudo a mode is set only as the "
			    "node's owner, and the sudoers rule allows that as qemu only)");
		return -1;
	}
	if (chown_node(ctx, fd, addr, uid, gid, err) < 0)
		return -1;
	if (!has_mode || fstat(fd, &st) < 0 || (st.st_mode & 07777) == mode)
		return 0;
	if (geteuid() == 0)
		return chmod_node(ctx, fd, addr, mode, err);
	*mode_kept = true;
	error_set(err, "warning: %s: given back to %u:%u, but with mode %04o, not %04o: chown cleared a set-id bit "
		  "and only root may set it again", path, uid, gid, (unsigned)st.st_mode & 07777, mode);
	return 0;
}

/* ---- the plan ---------------------------------------------------------- */

static bool held_by_vm(const struct journal_entry *e, const char *vmid)
{
	return e && vmid[0] && vmid_equal(e->vmid, vmid);
}

static size_t count_matching(const struct usb_device_list *list, struct usb_id id)
{
	size_t n = 0;
	for (size_t i = 0; i < list->count; i++)
		n += usb_id_equal(list->devices[i].id, id);
	return n;
}

/*
 * How many entries that must have a device ask for the id of entry i; 0 for
 * an entry without an id (a port alone).
 */
static size_t count_requested(const struct request *req, size_t i)
{
	return req->entries[i].has_id ? plan_required(req, req->entries[i].id) : 0;
}

/* One claim per entry the plan gives a device, in the order of the entries: *n of them. */
static int plan_claims(const struct context *ctx, const struct request *req, const struct usb_device_list *list,
		       const struct journal *j, struct plan *plan, struct claim *claims, size_t *n, struct error *err)
{
	*n = 0;
	if (plan_make(req, list, j, ctx->vmid, plan, err) < 0)
		return -1;
	for (size_t i = 0; i < plan->count; i++)
		if (plan->entries[i].fate == PLAN_CLAIMED)
			claims[(*n)++] = (struct claim){ .device = list->devices[plan->entries[i].device], .node_fd = -1,
							 .address = plan->entries[i].address };
	return 0;
}

/* One line for each optional entry the plan skips. */
static void say_skipped(const struct request *req, const struct plan *plan, bool dry_run)
{
	for (size_t i = 0; i < plan->count; i++) {
		char why[256];
		if (plan->entries[i].fate == PLAN_CLAIMED)
			continue;
		plan_skip_text(req, plan, i, why, sizeof why);
		say("%soptional %s: %s without it", dry_run ? "dry run: " : "", why,
		    dry_run ? "would start" : "starting");
	}
}

static void close_claims(struct claim *claims, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (claims[i].node_fd >= 0) {
			close(claims[i].node_fd);
			claims[i].node_fd = -1;
		}
}

/* The plan from the journal as it is, read without the lock. */
static int plan_unlocked(const struct context *ctx, const struct request *req, const struct usb_device_list *list,
			 struct plan *plan, struct claim *claims, size_t *n, struct error *err)
{
	struct journal j;
	*n = 0;
	if (journal_read(ctx->opt->root, list, NULL, &j, err) < 0)
		return -1;
	int rc = plan_claims(ctx, req, list, &j, plan, claims, n, err);
	journal_free(&j);
	return rc;
}

/*
 * The check before the lock: the plan made from the journal as it is, and
 * the node of every device it chooses opened and verified, into fds[] (by
 * index in the list; -1 for the others).  Nothing is changed, not even the
 * lock file made, for a start that cannot succeed.
 */
static int check_before_lock(const struct context *ctx, const struct request *req,
			     const struct usb_device_list *list, int *fds, struct error *err)
{
	struct claim claims[MAX_ENTRIES];
	struct plan plan;
	struct stat st;
	struct node_walk walk = { 0, -1 };
	size_t n;
	for (size_t i = 0; i < list->count; i++)
		fds[i] = -1;
	int rc = plan_unlocked(ctx, req, list, &plan, claims, &n, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		size_t at = (size_t)(sysfs_find(list, claims[i].device.addr) - list->devices);
		fds[at] = open_node(ctx, &list->devices[at], &st, false, &walk, err);
		rc = fds[at] < 0 ? -1 : 0;
	}
	node_walk_end(&walk);
	return rc;
}

/*
 * Gives each claim its node, opened by check_before_lock when the plan under
 * the lock chose the same device, and reads its owner before this run.
 */
static int take_claimed_nodes(const struct context *ctx, const struct usb_device_list *list, int *fds,
			      struct claim *claims, size_t n, struct error *err)
{
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		size_t at = (size_t)(sysfs_find(list, claims[i].device.addr) - list->devices);
		claims[i].node_fd = fds[at] >= 0 ? fds[at] : open_node(ctx, &claims[i].device, &st, false, NULL, err);
		fds[at] = -1;
		if (claims[i].node_fd < 0)
			return -1;
		if (fstat(claims[i].node_fd, &st) < 0) {
			char inside[NODE_PATH_SIZE], path[PATH_SIZE];
			node_paths(ctx, claims[i].device.addr, inside, path, sizeof path);
			error_set(err, "%s: %s", path, strerror(errno));
			return -1;
		}
		claims[i].old_uid = st.st_uid;
		claims[i].old_gid = st.st_gid;
		claims[i].old_mode = st.st_mode & 07777;
	}
	return 0;
}

static void close_nodes(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* ---- the domain XML ---------------------------------------------------- */

/* Streams the domain XML from in_fd to out_fd with a hostdev per claim. */
static int patch_domain(const struct context *ctx, int in_fd, int out_fd, const struct claim *claims, size_t n,
			struct error *err)
{
	char text[MAX_ENTRIES][HOSTDEV_SIZE];
	const char *fragments[MAX_ENTRIES];
	for (size_t i = 0; i < n; i++) {
		hostdev_text(claims[i].device.id, claims[i].address ? &claims[i].device.addr : NULL, text[i],
			     sizeof text[i]);
		fragments[i] = text[i];
	}
	struct xmlpatch_result result;
	struct xmlpatch_error xml_err;
	const struct xmlpatch_input in = { .fd = in_fd };
	if (xmlpatch_stream(&in, out_fd, fragments, n, &result, &xml_err) < 0) {
		error_set(err, "%s: %s", ctx->domxml, xml_err.message);
		return -1;
	}
	return 0;
}

/* Whether _hook_domxml names a file. */
static int check_domxml_set(const struct context *ctx, struct error *err)
{
	if (ctx->domxml && ctx->domxml[0])
		return 0;
	error_set(err, "_hook_domxml is not set: VDSM sets it to the domain XML file; to run by hand, "
		  "set it to a copy (virsh -r dumpxml VM >vm.xml)");
	return -1;
}

/*
 * Whether vmId is set: VDSM always sets it, and a line without one would be
 * given back by any VM's after_vm_destroy (the fallback for the Python hook's
 * lines).
 */
static int check_vmid_set(const struct context *ctx, struct error *err)
{
	if (ctx->vmid[0])
		return 0;
	error_set(err, "vmId is not set: VDSM sets it to the VM's UUID; to run by hand, set it too "
		  "(vmId=$(uuidgen))");
	return -1;
}

/* Opens the domain file, which must be a regular file. */
static int open_domain(const struct context *ctx, struct stat *st, struct error *err)
{
	const char *wrong;
	int fd = open_regular(ctx->domxml, 0, 0, st, &wrong);
	if (fd < 0) {
		error_set(err, "%s (from _hook_domxml): %s", ctx->domxml, wrong);
		return -1;
	}
	return fd;
}

/* The patched document in a temporary file beside the domain file, with its mode and owner. */
static int write_domain_temp(const struct context *ctx, const struct claim *claims, size_t n,
			     struct replacement *r, struct error *err)
{
	struct stat st;
	int in_fd = open_domain(ctx, &st, err);
	if (in_fd < 0)
		return -1;
	if (replacement_begin(r, ctx->domxml, DOMAIN_TEMP_SUFFIX, err) < 0) {
		close(in_fd);
		return -1;
	}
	int rc = patch_domain(ctx, in_fd, r->fd, claims, n, err);
	close(in_fd);
	if (rc == 0 && (fchmod(r->fd, st.st_mode & 07777) < 0 ||
			((st.st_uid != geteuid() || st.st_gid != getegid()) && fchown(r->fd, st.st_uid, st.st_gid) < 0))) {
		error_set(err, "%s: cannot give it the domain file's mode and owner: %s", r->temp, strerror(errno));
		rc = -1;
	}
	if (rc < 0)
		replacement_abandon(r);
	return rc;
}

/* ---- before_vm_start --------------------------------------------------- */

/*
 * Gives every changed node back its owner from before this run; undone says
 * why the first that could not be was not (and is left alone otherwise).
 * The journal j (with this run's lines) names who holds such a node.
 */
static void undo_chowns(const struct context *ctx, struct claim *claims, size_t n, const struct journal *j,
			struct error *undone)
{
	struct error err;
	for (size_t i = n; i-- > 0;) {
		if (!claims[i].changed)
			continue;
		bool mode_kept;
		if (give_back(ctx, claims[i].node_fd, claims[i].device.addr, claims[i].old_uid, claims[i].old_gid, true,
			      claims[i].old_mode, &mode_kept, &err) == 0) {
			claims[i].changed = false;
			continue;
		}
		if (undone->message[0])
			continue;
		char inside[NODE_PATH_SIZE], path[PATH_SIZE];
		node_paths(ctx, claims[i].device.addr, inside, path, sizeof path);
		const char *reason = reason_of(&err, path);
		const struct journal_entry *e = journal_find(j, claims[i].device.addr);
		error_set(undone, "%s: could not be given back to %u:%u (%s); it stays recorded as held by VM %s: "
			  "run after_vm_destroy for that VM to give it back", path, e ? e->uid : claims[i].old_uid,
			  e ? e->gid : claims[i].old_gid, reason, e && e->vmid[0] ? e->vmid : "(no vmId)");
	}
}

/*
 * After a rollback: the journal as it was when every node is back at its
 * owner; otherwise the lines of the nodes left changed stay (those the
 * journal had before this run stay anyway), so that their original owner is
 * not lost.  undone says why it could not be written (a journal that cannot
 * be written stays as this run wrote it, every line in it).
 */
static void restore_journal(const struct context *ctx, const struct claim *claims, size_t n, struct journal *j,
			    size_t count_before, struct error *undone)
{
	struct error err;
	bool any_left = false;
	for (size_t i = 0; i < n; i++)
		any_left |= claims[i].changed;
	int rc;
	if (!any_left) {
		rc = journal_restore(ctx->opt->root, j, &err);
	} else {
		bool *drops = calloc(j->count + 1, sizeof *drops);
		for (size_t k = count_before; drops && k < j->count; k++) {
			drops[k] = true;
			for (size_t i = 0; i < n; i++)
				if (claims[i].changed && usb_addr_compare(claims[i].device.addr, j->entries[k].addr) == 0)
					drops[k] = false;
		}
		if (!drops || journal_drop(j, drops) < 0) {
			error_set(&err, "journal: %s", strerror(ENOMEM));
			rc = -1;
		} else {
			rc = journal_commit(ctx->opt->root, j, &err);
		}
		free(drops);
	}
	if (rc != 0 && !undone->message[0])
		*undone = err;
}

/* The node's path still names the inode that was verified and chowned. */
static bool node_still_in_place(const struct context *ctx, const struct claim *c, struct error *err)
{
	char inside[NODE_PATH_SIZE], path[PATH_SIZE];
	struct stat at_path, chowned;
	node_paths(ctx, c->device.addr, inside, path, sizeof path);
	if (lstat(path, &at_path) < 0 || fstat(c->node_fd, &chowned) < 0 || at_path.st_ino != chowned.st_ino ||
	    at_path.st_dev != chowned.st_dev) {
		error_set(err, "%s: replaced or removed while it was being given to the VM", path);
		return false;
	}
	return true;
}

static int chown_claims(const struct context *ctx, struct claim *claims, size_t n, struct error *err)
{
	for (size_t i = 0; i < n; i++) {
		if (chown_node(ctx, claims[i].node_fd, claims[i].device.addr, ctx->uid, ctx->gid, err) < 0)
			return -1;
		claims[i].changed = true;
		if (!node_still_in_place(ctx, &claims[i], err))
			return -1;
	}
	return 0;
}

/* Adds a line for each claim the journal does not hold yet. */
static int journal_add_claims(struct journal *j, const struct claim *claims, size_t n, const char *vmid,
			      struct error *err)
{
	for (size_t i = 0; i < n; i++)
		if (journal_add(j, claims[i].device.addr, claims[i].old_uid, claims[i].old_gid, vmid,
				claims[i].old_mode) < 0) {
			error_set(err, "journal: %s", strerror(ENOMEM));
			return -1;
		}
	return 0;
}

/*
 * The transaction: temp XML, journal lines (durable), chowns, rename.  A
 * failure at any step puts back everything done before it: -1 with err set,
 * and undone set too when something could not be put back.
 */
static int commit_start(const struct context *ctx, struct claim *claims, size_t n, struct journal *j,
			struct error *err, struct error *undone)
{
	struct replacement domain;
	if (write_domain_temp(ctx, claims, n, &domain, err) < 0)
		return -1;
	size_t count_before = j->count;
	int written = journal_add_claims(j, claims, n, ctx->vmid, err) < 0 ? -1 : journal_commit(ctx->opt->root, j, err);
	if (written == 0 && chown_claims(ctx, claims, n, err) == 0 && replacement_commit(&domain, false, err) == 0)
		return 0;
	undo_chowns(ctx, claims, n, j, undone);
	/* a journal not written (written < 0) is as it was */
	if (written >= 0)
		restore_journal(ctx, claims, n, j, count_before, undone);
	replacement_abandon(&domain);
	return -1;
}

/*
 * The start itself: the check before the lock; then under it the plan again
 * (another VM may have claimed a device meanwhile), then the transaction.
 * Says why it fails.
 */
static int start(const struct context *ctx, const struct request *req, const struct usb_device_list *list)
{
	struct journal j = { 0 };
	struct claim claims[MAX_ENTRIES];
	struct plan plan;
	size_t n = 0;
	struct error err, undone = { "" };
	int *fds = malloc((list->count ? list->count : 1) * sizeof *fds), lock_fd = -1, rc = -1;
	if (!fds)
		error_set(&err, "%s", strerror(ENOMEM));
	if (fds && check_before_lock(ctx, req, list, fds, &err) == 0 &&
	    (lock_fd = journal_lock(ctx->opt->root, ctx->opt->lock_wait, &err)) >= 0 &&
	    journal_read(ctx->opt->root, list, NULL, &j, &err) == 0 &&
	    plan_claims(ctx, req, list, &j, &plan, claims, &n, &err) == 0 &&
	    take_claimed_nodes(ctx, list, fds, claims, n, &err) == 0)
		rc = n ? commit_start(ctx, claims, n, &j, &err, &undone) : 0;   /* every entry skipped: nothing to do */
	if (rc < 0)
		say_error(&err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct journal_entry *recorded = journal_find(&j, claims[i].device.addr);
		if (recorded)   /* commit_start wrote a line for each */
			say_given(ctx->vmid, &claims[i].device, ctx->uid, ctx->gid, recorded);
	}
	if (rc == 0)
		say_skipped(req, &plan, false);
	if (undone.message[0])
		say_error(&undone);
	if (fds)
		close_nodes(fds, list->count);
	free(fds);
	close_claims(claims, n);
	journal_free(&j);
	if (lock_fd >= 0)
		close(lock_fd);
	return rc;
}

/*
 * True for a dry run in a root with no NODE_DIR at all, where there is no node
 * to check: a chroot without /dev, or an example root built by a user who may
 * not make device nodes.  On a host whose sysfs lists USB devices devtmpfs
 * always has NODE_DIR, and a real start in such a root refuses every node.
 */
static bool without_nodes(const struct context *ctx)
{
	char path[PATH_SIZE];
	struct stat st;
	if (root_path(ctx->opt->root, NODE_DIR, path, sizeof path) < 0)
		return false;
	return lstat(path, &st) < 0 && errno == ENOENT;
}

/*
 * The dry run's look at a claimed node: -1 with err set when it is refused,
 * its owner then read with lstat, so that the whole plan can be shown.
 */
static int look_at_node(const struct context *ctx, struct claim *c, bool unchecked, struct error *err)
{
	struct stat st = { .st_uid = (uid_t)-1, .st_gid = (gid_t)-1 };
	char inside[NODE_PATH_SIZE], path[PATH_SIZE];
	c->node_unchecked = unchecked;
	c->node_fd = unchecked ? -1 : open_node(ctx, &c->device, &st, false, NULL, err);
	if (c->node_fd < 0 && !unchecked) {
		node_paths(ctx, c->device.addr, inside, path, sizeof path);
		(void)lstat(path, &st);
	}
	c->old_uid = st.st_uid;
	c->old_gid = st.st_gid;
	return c->node_fd < 0 && !unchecked ? -1 : 0;
}

static void say_plan(const struct context *ctx, const struct claim *claims, size_t n)
{
	char node_dir[PATH_SIZE];
	(void)root_path(ctx->opt->root, NODE_DIR, node_dir, sizeof node_dir);
	for (size_t i = 0; i < n; i++) {
		const struct claim *c = &claims[i];
		char from[32] = "", unchecked[PATH_SIZE + 48] = "", inside[NODE_PATH_SIZE], node[PATH_SIZE];
		if (c->node_unchecked)
			format(unchecked, sizeof unchecked, "; not checked: %s does not exist", node_dir);
		else
			format(from, sizeof from, " from %d:%d", (int)c->old_uid, (int)c->old_gid);
		node_paths(ctx, c->device.addr, inside, node, sizeof node);
		say("dry run: %s %s (bus %u device %u, 0x%04x:0x%04x)%s to %u:%u%s",
		    c->node_fd >= 0 || c->node_unchecked ? "would chown" : "REFUSED, would not chown", node,
		    c->device.addr.bus, c->device.addr.device, c->device.id.vendor, c->device.id.product, from,
		    ctx->uid, ctx->gid, unchecked);
	}
}

/* --dry-run: the plan made without the lock, the patched XML to stdout, the plan to stderr; nothing changed. */
static int dry_run_start(const struct context *ctx, const struct request *req, const struct usb_device_list *list)
{
	struct claim claims[MAX_ENTRIES];
	struct plan plan;
	size_t n;
	struct error err;
	struct stat st;
	int rc = -1, in_fd = -1;
	if (plan_unlocked(ctx, req, list, &plan, claims, &n, &err) < 0) {
		say_error(&err);
	} else {
		bool unchecked = without_nodes(ctx), refused = false;
		for (size_t i = 0; i < n; i++)
			if (look_at_node(ctx, &claims[i], unchecked, &err) < 0) {
				say_error(&err);
				refused = true;
			}
		in_fd = open_domain(ctx, &st, &err);
		if (in_fd < 0 || patch_domain(ctx, in_fd, STDOUT_FILENO, claims, n, &err) < 0) {
			say_error(&err);
		} else {
			say_plan(ctx, claims, n);
			say_skipped(req, &plan, true);
			rc = refused ? -1 : 0;
		}
	}
	if (in_fd >= 0)
		close(in_fd);
	close_claims(claims, n);
	return rc;
}

/* The ids the entries of req name, into ids (MAX_ENTRIES); how many. */
static size_t request_ids(const struct request *req, struct usb_id *ids)
{
	size_t n = 0;
	for (size_t i = 0; i < req->count; i++)
		if (req->entries[i].has_id)
			ids[n++] = req->entries[i].id;
	return n;
}

/* The device on each port an entry names, whatever its id, into list; says why it fails. */
static int add_port_devices(const struct context *ctx, const struct request *req, struct usb_device_list *list)
{
	for (size_t i = 0; i < req->count; i++) {
		struct usb_device dev;
		char err[PATH_SIZE + 64];
		if (req->entries[i].kind != SELECT_PORT)
			continue;
		int found = sysfs_read_port(ctx->opt->root, &req->entries[i].port, &dev, err, sizeof err);
		if (found < 0) {
			say("%s", err);
			return -1;
		}
		if (found == 0 && sysfs_add(list, &dev) < 0) {
			say("%s", strerror(ENOMEM));
			return -1;
		}
	}
	return 0;
}

static int before_vm_start(struct context *ctx)
{
	struct request req;
	struct usb_device_list list = { 0 };
	struct error err;
	char scan_err[256];
	if (!ctx->property[0]) {
		if (ctx->opt->dry_run)
			say("dry run: the hostusb property is not set or empty: nothing to do");
		return 0;
	}
	if (parse_property(ctx->property, &req, &err) < 0 || check_domxml_set(ctx, &err) < 0 ||
	    check_vmid_set(ctx, &err) < 0 ||
	    resolve_owner(ctx->opt->root, ctx->opt->owner, &ctx->uid, &ctx->gid, &err) < 0) {
		say_error(&err);
		return -1;
	}
	struct usb_id ids[MAX_ENTRIES];
	if (sysfs_scan_ids(ctx->opt->root, ids, request_ids(&req, ids), &list, scan_err, sizeof scan_err) < 0) {
		say("%s", scan_err);
		return -1;
	}
	if (add_port_devices(ctx, &req, &list) < 0) {
		sysfs_free(&list);
		return -1;
	}
	/* a device that is not there stops the start before the lock is even made */
	int rc = plan_check_present(&req, &list, &err);
	if (rc < 0)
		say_error(&err);
	else
		rc = ctx->opt->dry_run ? dry_run_start(ctx, &req, &list) : start(ctx, &req, &list);
	sysfs_free(&list);
	return rc;
}

/* ---- after_vm_destroy -------------------------------------------------- */

/*
 * Marks the journal lines this VM gives back: every line of its vmId, and for
 * an id of the property it holds fewer of than requested, lines without a
 * vmId (the Python hook's) on matching devices, ascending.  missing[r]: how
 * many of entry r's id are still not accounted for (0 for an id an earlier
 * entry has).
 */
static void select_releases(const struct context *ctx, const struct request *req, const struct usb_device_list *list,
			    const struct journal *j, bool *release, size_t *missing)
{
	for (size_t i = 0; i < j->count; i++)
		release[i] = held_by_vm(&j->entries[i], ctx->vmid);
	for (size_t r = 0; r < req->count; r++) {
		size_t wanted = count_requested(req, r);
		missing[r] = 0;
		for (size_t k = 0; k < r; k++)
			wanted = usb_id_equal(req->entries[k].id, req->entries[r].id) ? 0 : wanted;
		for (int pass = 0; pass < 2; pass++)
			for (size_t d = 0; d < list->count && wanted > 0; d++) {
				const struct journal_entry *e = journal_find(j, list->devices[d].addr);
				if (!e || !usb_id_equal(list->devices[d].id, req->entries[r].id))
					continue;
				size_t i = (size_t)(e - j->entries);
				if (pass == 0 && release[i])
					wanted--;
				else if (pass == 1 && !release[i] && !e->vmid[0])
					release[i] = true, wanted--;
			}
		missing[r] = wanted;
	}
}

/*
 * What became of one journal line: given back (its mode too, or not: warned)
 * or its device gone (the line is dropped); kept (not this VM's, or its node is missing: warned); or failed.
 */
enum release_outcome { RELEASED, RELEASED_MODE_KEPT, DEVICE_GONE, RELEASE_KEPT, RELEASE_FAILED };

/*
 * Gives one node back its recorded owner.  A device still in sysfs whose node
 * is missing cannot be given back now; its line stays, so its original owner
 * is not lost.  err says why (a warning for DEVICE_GONE and RELEASE_KEPT).
 */
static enum release_outcome release_entry(const struct context *ctx, const struct usb_device_list *list,
					  const struct journal_entry *e, struct error *err)
{
	const struct usb_device *dev = sysfs_find(list, e->addr);
	char inside[NODE_PATH_SIZE], path[PATH_SIZE];
	node_paths(ctx, e->addr, inside, path, sizeof path);
	if (!dev) {
		error_set(err, "warning: %s is gone; forgetting its recorded owner %u:%u", inside, e->uid, e->gid);
		return DEVICE_GONE;
	}
	struct stat st;
	int fd = open_node(ctx, dev, &st, true, NULL, err);
	if (fd == -2) {
		error_set(err, "warning: %s: device 0x%04x:0x%04x is in sysfs but its node is missing; still held by "
			  "VM %s, owner %u:%u kept to restore: once the node is back, run after_vm_destroy for that "
			  "VM again", path, dev->id.vendor, dev->id.product, e->vmid[0] ? e->vmid : "(no vmId)",
			  e->uid, e->gid);
		return RELEASE_KEPT;
	}
	if (fd < 0)
		return RELEASE_FAILED;
	bool mode_kept;
	int rc = give_back(ctx, fd, e->addr, e->uid, e->gid, e->has_mode, e->mode, &mode_kept, err);
	close(fd);
	if (rc == 0)
		say_given_back(ctx->vmid, dev, e, mode_kept);
	return rc < 0 ? RELEASE_FAILED : mode_kept ? RELEASED_MODE_KEPT : RELEASED;
}

/*
 * What a destroy looks at: the devices of the property's ids and the journal
 * lines of their nodes; this VM's lines and the devices at their nodes.  Of
 * the other devices sysfs lists, no more than an id or an address is read.
 * Says why it fails.
 */
static int read_for_release(const struct context *ctx, const struct request *req, struct usb_device_list *list,
			    struct journal *j)
{
	struct error err;
	char scan_err[256];
	struct usb_id ids[MAX_ENTRIES];
	if (sysfs_scan_ids(ctx->opt->root, ids, request_ids(req, ids), list, scan_err, sizeof scan_err) < 0) {
		say("%s", scan_err);
		return -1;
	}
	if (journal_read(ctx->opt->root, list, ctx->vmid, j, &err) < 0) {
		say_error(&err);
		return -1;
	}
	/* this VM's nodes the scan by id did not find, in address order */
	struct usb_addr *elsewhere = malloc((j->count + 1) * sizeof *elsewhere);
	size_t n = 0;
	for (size_t k = 0; elsewhere && k < j->count; k++)
		if (!sysfs_find(list, j->entries[j->by_addr[k]].addr))
			elsewhere[n++] = j->entries[j->by_addr[k]].addr;
	int rc = !elsewhere ? -1
	       : n > 0 ? sysfs_scan_addrs(ctx->opt->root, elsewhere, n, list, scan_err, sizeof scan_err) : 0;
	if (rc < 0)
		say("%s", elsewhere ? scan_err : strerror(ENOMEM));
	free(elsewhere);
	return rc;
}

/*
 * What a destroy or a release says of what it does not find: without vmId,
 * that it is missing; with nothing recorded for the VM, one line saying so
 * (with announce: every release, and a destroy of a VM with the property);
 * else each id of the property it holds fewer of than requested.
 */
static void say_not_held(const struct context *ctx, const struct request *req, const struct journal *j,
			 const bool *release, const size_t *missing, bool announce)
{
	bool any = false;
	for (size_t i = 0; i < j->count; i++)
		any |= release[i];
	if (!ctx->vmid[0]) {
		say("warning: vmId is not set: only devices recorded without a vmId can be given back; VDSM sets vmId "
		    "to the VM's UUID (by hand: hostusb release VMID)");
		return;
	}
	if (!any) {
		if (announce)
			say("VM %s: nothing recorded for this VM: nothing to give back", ctx->vmid);
		return;
	}
	for (size_t r = 0; r < req->count; r++)
		if (missing[r] > 0)
			say("warning: device 0x%04x:0x%04x: %zu requested but not recorded as held by this VM",
			    req->entries[r].id.vendor, req->entries[r].id.product, missing[r]);
}

/* Gives back what this VM holds and writes the journal without those lines; says what it could not. */
static int release_all(const struct context *ctx, const struct request *req, struct usb_device_list *list,
		       struct journal *j, bool announce)
{
	struct error err;
	size_t missing[MAX_ENTRIES];
	bool *release = calloc(j->count + 1, sizeof *release);
	if (!release) {
		say("journal: %s", strerror(ENOMEM));
		return -1;
	}
	select_releases(ctx, req, list, j, release, missing);
	say_not_held(ctx, req, j, release, missing, announce);
	int rc = 0;
	bool any = false;
	for (size_t i = 0; i < j->count; i++) {
		if (!release[i])
			continue;
		enum release_outcome outcome = release_entry(ctx, list, &j->entries[i], &err);
		if (outcome != RELEASED && outcome != RELEASED_MODE_KEPT)
			say_error(&err);
		release[i] = outcome == RELEASED || outcome == RELEASED_MODE_KEPT || outcome == DEVICE_GONE;
		any |= release[i];
		rc = outcome == RELEASE_FAILED ? -1 : rc;
	}
	if (any && journal_drop(j, release) < 0) {
		say("journal: %s", strerror(ENOMEM));
		rc = -1;
	} else if (any && journal_commit(ctx->opt->root, j, &err) != 0) {
		say_error(&err);
		rc = -1;
	}
	free(release);
	return rc;
}

/*
 * Gives back what the journal records for the VM (and, for the ids of req,
 * the lines without a vmId); announce: says so when nothing is recorded.
 */
static int give_back_vm(const struct context *ctx, const struct request *req, bool announce)
{
	struct usb_device_list list = { 0 };
	struct journal j = { 0 };
	struct error err;
	char path[PATH_SIZE];
	struct stat st;
	if (host_path(ctx, JOURNAL_PATH, path, sizeof path, &err) < 0) {
		say_error(&err);
		return -1;
	}
	if (lstat(path, &st) < 0 && errno == ENOENT) {
		if (!ctx->vmid[0])
			say("warning: vmId is not set, and %s does not exist: no device to give back", path);
		else if (announce)
			say("VM %s: nothing recorded for this VM: nothing to give back (%s does not exist)", ctx->vmid,
			    path);
		return 0;
	}
	int lock_fd = journal_lock(ctx->opt->root, ctx->opt->lock_wait, &err), rc = -1;
	if (lock_fd < 0)
		say_error(&err);
	else if (read_for_release(ctx, req, &list, &j) == 0)
		rc = release_all(ctx, req, &list, &j, announce);
	journal_free(&j);
	sysfs_free(&list);
	if (lock_fd >= 0)
		close(lock_fd);
	return rc;
}

static int after_vm_destroy(const struct context *ctx)
{
	struct request req = { .count = 0 };
	struct error err;
	if (ctx->property[0] && parse_property(ctx->property, &req, &err) < 0) {
		say_error(&err);
		req.count = 0;   /* the lines of this vmId are still given back */
	}
	return give_back_vm(ctx, &req, ctx->property[0] != '\0');
}

/* release VMID: what the journal records for that VM, without its property. */
static int release_vm(struct context *ctx)
{
	const struct request none = { .count = 0 };
	format(ctx->vmid, sizeof ctx->vmid, "%s", ctx->opt->release_vmid);
	return give_back_vm(ctx, &none, true);
}

/* ---- list -------------------------------------------------------------- */

/* The port as list shows it: "?" for an entry whose name is not a port path. */
static void port_cell(const struct usb_device *dev, char *buf, size_t size)
{
	if (dev->port.bus == 0)
		format(buf, size, "?");
	else
		usb_port_format(&dev->port, buf, size);
}

/* The widths of list's columns that vary with the host: port and serial. */
struct list_widths {
	size_t port, serial;
};

#define SERIAL_CELL_SIZE (SERIAL_MAX + 24)

/* The serial as list shows it: "-" for none; one that cannot be selected is quoted and says so. */
static void serial_cell(const struct usb_device *dev, char *buf, size_t size)
{
	if (dev->serial_kind == USB_SERIAL_NONE)
		format(buf, size, "-");
	else if (dev->serial_kind == USB_SERIAL_USABLE)
		format(buf, size, "%s", dev->serial);
	else
		format(buf, size, "\"%s%s\" (by port only)", dev->serial, dev->serial_cut ? "..." : "");
}

/* Whether dev is the only device of its id with its serial. */
static bool serial_unique(const struct usb_device_list *list, const struct usb_device *dev)
{
	for (size_t i = 0; i < list->count; i++) {
		const struct usb_device *other = &list->devices[i];
		if (other != dev && usb_id_equal(other->id, dev->id) && other->serial_kind == USB_SERIAL_USABLE &&
		    strcmp(other->serial, dev->serial) == 0)
			return false;
	}
	return true;
}

/*
 * The shortest property value that names exactly this device and survives a
 * replug: the id when no other device has it, else with the serial when that
 * is usable and unique among the id, else with the port.  "-" for a hub.
 */
static void property_value(const struct usb_device_list *list, const struct usb_device *dev, char *buf, size_t size)
{
	char port[USB_PORT_TEXT_SIZE];
	if (dev->hub || dev->port.bus == 0) {
		format(buf, size, "-");
		return;
	}
	int n = format(buf, size, "0x%04x:0x%04x", dev->id.vendor, dev->id.product);
	if (count_matching(list, dev->id) == 1 || n < 0 || (size_t)n >= size)
		return;
	usb_port_format(&dev->port, port, sizeof port);
	if (dev->serial_kind == USB_SERIAL_USABLE && serial_unique(list, dev))
		format(buf + n, size - (size_t)n, "#%s", dev->serial);
	else
		format(buf + n, size - (size_t)n, "@%s", port);
}

/* Appends text to line at *at, padded with spaces to width and one more. */
static void put_cell(char *line, size_t size, size_t *at, const char *text, size_t width)
{
	int n = format(line + *at, size - *at, "%s", text);
	size_t end = *at + (n > 0 ? (size_t)n : 0);
	while (end < *at + width + 1 && end + 1 < size)
		line[end++] = ' ';
	line[end < size ? end : size - 1] = '\0';
	*at = strlen(line);
}

static void list_line(const struct context *ctx, const struct usb_device_list *list, const struct usb_device *dev,
		      const struct journal *j, const struct list_widths *w, char *buf, size_t size)
{
	char inside[NODE_PATH_SIZE], node[PATH_SIZE], owner[32] = "-", holder[VMID_MAX + 1] = "-";
	char port[USB_PORT_TEXT_SIZE], id[16], serial[SERIAL_CELL_SIZE], value[128], head[16];
	struct stat st;
	size_t at = 0;
	node_paths(ctx, dev->addr, inside, node, sizeof node);
	if (lstat(node, &st) == 0)
		format(owner, sizeof owner, "%u:%u", (unsigned)st.st_uid, (unsigned)st.st_gid);
	const struct journal_entry *e = journal_find(j, dev->addr);
	if (e)
		format(holder, sizeof holder, "%s", e->vmid[0] ? e->vmid : "unknown");
	port_cell(dev, port, sizeof port);
	format(head, sizeof head, "%03u %03u", dev->addr.bus, dev->addr.device);
	format(id, sizeof id, "%04x:%04x", dev->id.vendor, dev->id.product);
	serial_cell(dev, serial, sizeof serial);
	property_value(list, dev, value, sizeof value);
	const char *cells[] = { head, port, id, serial, dev->speed[0] ? dev->speed : "-", owner, holder };
	const size_t widths[] = { 7, w->port, 9, w->serial, 5, 11, 36 };
	for (size_t c = 0; c < sizeof cells / sizeof cells[0]; c++)
		put_cell(buf, size, &at, cells[c], widths[c]);
	format(buf + at, size - at, "%s\n", value);
}

static struct list_widths list_widths(const struct usb_device_list *list)
{
	struct list_widths w = { strlen("PORT"), strlen("SERIAL") };
	for (size_t i = 0; i < list->count; i++) {
		char port[USB_PORT_TEXT_SIZE], serial[SERIAL_CELL_SIZE];
		port_cell(&list->devices[i], port, sizeof port);
		serial_cell(&list->devices[i], serial, sizeof serial);
		w.port = strlen(port) > w.port ? strlen(port) : w.port;
		w.serial = strlen(serial) > w.serial ? strlen(serial) : w.serial;
	}
	return w;
}

/* The header, or with --property nothing; then a line per device (--property: per device that is not a hub). */
static int write_list(const struct context *ctx, const struct usb_device_list *list, const struct journal *j)
{
	char line[1024];
	struct list_widths w = list_widths(list);
	size_t at = 0;
	const char *titles[] = { "BUS DEV", "PORT", "ID", "SERIAL", "SPEED", "OWNER", "HELD-BY" };
	const size_t widths[] = { 7, w.port, 9, w.serial, 5, 11, 36 };
	for (size_t c = 0; c < sizeof titles / sizeof titles[0]; c++)
		put_cell(line, sizeof line, &at, titles[c], widths[c]);
	format(line + at, sizeof line - at, "PROPERTY\n");
	if (!ctx->opt->list_property && write_all(STDOUT_FILENO, line, strlen(line)) < 0)
		return -1;
	for (size_t i = 0; i < list->count; i++) {
		const struct usb_device *dev = &list->devices[i];
		if (!ctx->opt->list_property) {
			list_line(ctx, list, dev, j, &w, line, sizeof line);
		} else {
			char value[128];
			property_value(list, dev, value, sizeof value);
			if (strcmp(value, "-") == 0)
				continue;
			format(line, sizeof line, "%s\n", value);
		}
		if (write_all(STDOUT_FILENO, line, strlen(line)) < 0)
			return -1;
	}
	return 0;
}

/* Why a scan failed: when the kernel lists no USB bus at all, that in words. */
static void say_no_bus(const struct context *ctx, const char *scan_err)
{
	char path[PATH_SIZE];
	struct stat st;
	if (root_path(ctx->opt->root, SYSFS_USB_DEVICES, path, sizeof path) == 0 && lstat(path, &st) < 0 &&
	    errno == ENOENT)
		say("no USB bus on this host: %s does not exist (no USB controller, or its driver not loaded)", path);
	else
		say("%s", scan_err);
}

static int list_devices(const struct context *ctx)
{
	struct usb_device_list list = { 0 };
	struct journal j = { 0 };
	struct error err;
	char scan_err[256];
	if (sysfs_scan(ctx->opt->root, &list, scan_err, sizeof scan_err) < 0) {
		say_no_bus(ctx, scan_err);
		return -1;
	}
	int rc = journal_read(ctx->opt->root, &list, NULL, &j, &err);
	if (rc < 0)
		say_error(&err);
	errno = 0;
	if (rc == 0 && write_list(ctx, &list, &j) < 0) {
		say("stdout: %s", strerror(errno));
		rc = -1;
	}
	journal_free(&j);
	sysfs_free(&list);
	return rc < 0 ? -1 : 0;
}

/* ---- main -------------------------------------------------------------- */

/* usage_head, the hook points, usage_text */
static const char usage_head[] =
	"usage: hostusb [--root DIR] [--owner USER:GROUP] [--dry-run] [--lock-wait SEC] [HOOK]\n"
	"       hostusb [--root DIR] [list [--property]]\n"
	"       hostusb [--root DIR] [--lock-wait SEC] release VMID\n"
	"       hostusb --help | --version\n"
	"HOOK is one of: ";
static const char usage_text[] = ".\n"
	"Without HOOK or list, the program runs the hook point its directory is named after,\n"
	"as VDSM runs hooks/HOOK/50_hostusb: the name as given, else as resolved (so\n"
	"./50_hostusb there works too).  Anywhere else it does what list does: a line per\n"
	"host USB device with its port, serial, speed, owner, the VM holding it and the\n"
	"hostusb property value that selects it (--property: only those values); but with\n"
	"_hook_domxml set, or in another directory of a hooks/ directory, it fails.  release\n"
	"gives back every device the journal records for the VM VMID (one that no longer exists).\n"
	"Environment: hostusb=ENTRY[&ENTRY]... (at most 32), _hook_domxml, vmId.  ENTRY is\n"
	"  0xVVVV:0xPPPP          any free device with this vendor:product id\n"
	"  0xVVVV:0xPPPP#SERIAL   the one with this serial number (1-64 of A-Z a-z 0-9 . _ : -)\n"
	"  0xVVVV:0xPPPP@PORT     the one on this port, which must have this id\n"
	"  @PORT                  whatever device is on this port (not a hub)\n"
	"  ?ENTRY                 optional: when it cannot be had, start without it\n"
	"A hub, root hubs too, is never given: an entry that only hubs match fails.\n"
	"PORT is the kernel's port path, as in /sys/bus/usb/devices/1-3.1: bus 1-999, then\n"
	"up to 7 port numbers 1-31 from the root hub down; list shows each device's.\n";

static int write_usage(void)
{
	char names[HOOK_POINT_NAMES_SIZE];
	hook_point_names(names, sizeof names);
	if (write_all(STDOUT_FILENO, usage_head, sizeof usage_head - 1) < 0 ||
	    write_all(STDOUT_FILENO, names, strlen(names)) < 0)
		return -1;
	return write_all(STDOUT_FILENO, usage_text, sizeof usage_text - 1);
}

static int run(const struct options *opt)
{
	const char *vmid = getenv("vmId"), *property = getenv("hostusb");
	struct context ctx = { .opt = opt, .property = property ? property : "", .domxml = getenv("_hook_domxml") };
	struct error err;
	if (vmid && check_vmid(vmid, &err) < 0) {
		say_error(&err);
		return -1;
	}
	format(ctx.vmid, sizeof ctx.vmid, "%s", vmid ? vmid : "");
	switch (opt->command) {
	case CMD_BEFORE_VM_START:
		return before_vm_start(&ctx);
	case CMD_AFTER_VM_DESTROY:
		return after_vm_destroy(&ctx);
	case CMD_BEFORE_VM_MIGRATE_SOURCE:
		if (ctx.property[0]) {
			say("cannot migrate VM with host usb devices");
			return -1;
		}
		return 0;
	case CMD_LIST:
		return list_devices(&ctx);
	case CMD_RELEASE:
		return release_vm(&ctx);
	case CMD_HELP:
		return write_usage();
	case CMD_VERSION:
		return write_all(STDOUT_FILENO, "hostusb " HOSTUSB_VERSION "\n", sizeof "hostusb " HOSTUSB_VERSION);
	case CMD_NONE:
		break;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct options opt;
	struct error err;
	if (parse_options(argc, argv, getenv("_hook_domxml") != NULL, &opt, &err) < 0) {
		say_error(&err);
		return EXIT_HOOK_FAILED;
	}
	/* as every path is made: root_path's messages then name the same paths */
	char *root = strndup(opt.root, root_length(opt.root));
	if (!root) {
		say("%s", strerror(ENOMEM));
		return EXIT_HOOK_FAILED;
	}
	opt.root = root;
	int rc = run(&opt);
	free(root);
	return rc == 0 ? 0 : EXIT_HOOK_FAILED;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for sysfs.c.  Fixture roots are built the way the kernel lays out
 * sysfs (and the way tests/fixture.sh does): /sys/bus/usb/devices/<name> is a
 * symlink into /sys/devices/pci0000:00/0000:00:0B.0/usbB/..., and interfaces
 * "<name>:1.0" are listed on the bus beside the devices.
 */
#include "sysfs.h"
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* ---- fixture helpers: any failure to build a fixture ends the test ---- */

static char tmpdir[64];

__attribute__((noreturn, format(printf, 1, 2)))
static void fixture_fail(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL fixture: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(1);
}

__attribute__((format(printf, 3, 4)))
static void format_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		fixture_fail("path too long");
}

static void make_dirs(const char *path)
{
	char buf[PATH_MAX];

	format_path(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			fixture_fail("mkdir %s: %s", buf, strerror(errno));
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		fixture_fail("mkdir %s: %s", buf, strerror(errno));
}

static void write_bytes(const char *dir, const char *file, const char *data, size_t len)
{
	char path[PATH_MAX];

	format_path(path, sizeof path, "%s/%s", dir, file);
	if (unlink(path) < 0 && errno != ENOENT)
		fixture_fail("unlink %s: %s", path, strerror(errno));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fixture_fail("open %s: %s", path, strerror(errno));
	if (len > 0 && write(fd, data, len) != (ssize_t)len)
		fixture_fail("write %s", path);
	if (close(fd) < 0)
		fixture_fail("close %s: %s", path, strerror(errno));
}

static void write_text(const char *dir, const char *file, const char *text)
{
	write_bytes(dir, file, text, strlen(text));
}

static void make_symlink(const char *target, const char *link)
{
	if (symlink(target, link) < 0)
		fixture_fail("symlink %s: %s", link, strerror(errno));
}

static void make_root(const char *root)
{
	char path[PATH_MAX];

	format_path(path, sizeof path, "%s/sys/bus/usb/devices", root);
	make_dirs(path);
	format_path(path, sizeof path, "%s/sys/devices", root);
	make_dirs(path);
}

/* A fresh root under the temp dir, e.g. "<tmp>/layout". */
static void new_root(char *root, size_t size, const char *name)
{
	format_path(root, size, "%s/%s", tmpdir, name);
	make_root(root);
}

static void write_attributes(const char *dir, const char *vid, const char *pid, unsigned bus, unsigned devnum)
{
	char text[32];

	make_dirs(dir);
	format_path(text, sizeof text, "%s\n", vid);
	write_text(dir, "idVendor", text);
	format_path(text, sizeof text, "%s\n", pid);
	write_text(dir, "idProduct", text);
	format_path(text, sizeof text, "%u\n", bus);
	write_text(dir, "busnum", text);
	format_path(text, sizeof text, "%u\n", devnum);
	write_text(dir, "devnum", text);
	format_path(text, sizeof text, "189:%u\n", (bus - 1) * 128 + (devnum - 1));
	write_text(dir, "dev", text);
	write_text(dir, "version", " 2.00\n");
	write_text(dir, "bDeviceClass", "00\n");
	write_text(dir, "speed", "480\n");
}

/* The bus list entry: a symlink relative to sys/bus/usb/devices, as the kernel makes it. */
static void list_on_bus(const char *root, const char *dir, const char *name)
{
	char target[PATH_MAX], link[PATH_MAX];
	const char *below_devices = dir + strlen(root) + strlen("/sys/devices/");

	format_path(target, sizeof target, "../../../devices/%s", below_devices);
	format_path(link, sizeof link, "%s/sys/bus/usb/devices/%s", root, name);
	make_symlink(target, link);
}

static void add_interface(const char *root, const char *device_dir, const char *device_name)
{
	char name[64], dir[PATH_MAX];

	format_path(name, sizeof name, "%s:1.0", device_name);
	format_path(dir, sizeof dir, "%s/%s", device_dir, name);
	make_dirs(dir);
	write_text(dir, "bInterfaceNumber", "00\n");
	write_text(dir, "bInterfaceClass", "03\n");
	list_on_bus(root, dir, name);
}

static void bus_dir(char *dir, size_t size, const char *root, unsigned bus)
{
	format_path(dir, size, "%s/sys/devices/pci0000:00/0000:00:%02x.0/usb%u", root, bus, bus);
}

static void add_bus(const char *root, unsigned bus)
{
	char dir[PATH_MAX], name[16], interface_owner[16];

	bus_dir(dir, sizeof dir, root, bus);
	write_attributes(dir, "1d6b", "0002", bus, 1);
	write_text(dir, "bDeviceClass", "09\n");
	format_path(name, sizeof name, "usb%u", bus);
	list_on_bus(root, dir, name);
	format_path(interface_owner, sizeof interface_owner, "%u-0", bus);
	add_interface(root, dir, interface_owner);
}

/* The directory of a port path: 1-3.1 lives under .../usb1/1-3/1-3.1 */
static void device_dir(char *dir, size_t size, const char *root, const char *port_path)
{
	char prefix[64];
	const char *dash = strchr(port_path, '-');

	if (!dash)
		fixture_fail("bad port path %s", port_path);
	bus_dir(dir, size, root, (unsigned)strtoul(port_path, NULL, 10));
	for (const char *p = dash + 1;; p++) {
		if (*p != '.' && *p != '\0')
			continue;
		format_path(prefix, sizeof prefix, "%.*s", (int)(p - port_path), port_path);
		size_t used = strlen(dir);
		format_path(dir + used, size - used, "/%s", prefix);
		if (*p == '\0')
			break;
	}
}

/* A device with an interface; returns its directory in dir (may be NULL). */
static void add_device(const char *root, const char *port_path, const char *vid, const char *pid,
		       unsigned devnum, char *dir_out, size_t dir_size)
{
	char dir[PATH_MAX];

	device_dir(dir, sizeof dir, root, port_path);
	write_attributes(dir, vid, pid, (unsigned)strtoul(port_path, NULL, 10), devnum);
	list_on_bus(root, dir, port_path);
	add_interface(root, dir, port_path);
	if (dir_out)
		format_path(dir_out, dir_size, "%s", dir);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st; (void)type; (void)ftw;
	if (remove(path) < 0)
		printf("  warning: cannot remove %s: %s\n", path, strerror(errno));
	return 0;
}

static void remove_tmpdir(void)
{
	nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- helpers for checks ---- */

static const struct usb_device *find_device(const struct usb_device_list *list, const char *name)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->devices[i].name, name) == 0)
			return &list->devices[i];
	return NULL;
}

/* The names in list order, space separated: "usb1 1-3 1-3.1". */
static const char *names_of(const struct usb_device_list *list, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < list->count && used < size; i++) {
		int n = snprintf(buf + used, size - used, "%s%s", i ? " " : "", list->devices[i].name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}

/* The names a scan listed, checked when it succeeded (a failed scan fails the check); frees the list. */
static void check_listed(const char *label, int scanned, struct usb_device_list *list, const char *want)
{
	char names[256];

	if (scanned)
		CHECK_STR(label, names_of(list, names, sizeof names), want);
	else
		CHECK(label, scanned);
	sysfs_free(list);
}

static int scan_ok(const char *root, struct usb_device_list *list)
{
	struct error err = { "" };
	int status = sysfs_scan(root, list, &err);

	if (status != 0)
		printf("  scan of %s failed: %s\n", root, err.message);
	return status == 0;
}

static int scan_ids_ok(const char *root, const struct usb_id *want, size_t nwant, struct usb_device_list *list)
{
	struct error err = { "" };
	int status = sysfs_scan_ids(root, want, nwant, list, &err);

	if (status != 0)
		printf("  scan of %s for ids failed: %s\n", root, err.message);
	return status == 0;
}

/* ---- scan tests ---- */

static void test_layout(void)
{
	char root[PATH_MAX], names[256];
	struct usb_device_list list;

	new_root(root, sizeof root, "layout");
	add_bus(root, 1);
	add_device(root, "1-3", "05e3", "0608", 2, NULL, 0);
	add_device(root, "1-3.1", "0627", "0001", 5, NULL, 0);

	CHECK("layout: scan succeeds", scan_ok(root, &list));
	CHECK("layout: interfaces skipped, three devices", list.count == 3);
	CHECK_STR("layout: sorted by devnum", names_of(&list, names, sizeof names), "usb1 1-3 1-3.1");
	const struct usb_device *hub = find_device(&list, "usb1");
	CHECK("layout: root hub is 1d6b:0002 on 1/1",
	      hub && hub->id.vendor == 0x1d6b && hub->id.product == 0x0002 && hub->addr.bus == 1 && hub->addr.device == 1);
	const struct usb_device *tablet = find_device(&list, "1-3.1");
	CHECK("layout: device behind hub has its ids",
	      tablet && tablet->id.vendor == 0x0627 && tablet->id.product == 0x0001);
	CHECK("layout: device behind hub has bus 1 devnum 5", tablet && tablet->addr.bus == 1 && tablet->addr.device == 5);
	CHECK("layout: device behind hub has dev 189:4", tablet && tablet->dev_major == 189 && tablet->dev_minor == 4);
	sysfs_free(&list);
	CHECK("free: list left empty", list.devices == NULL && list.count == 0);
	sysfs_free(&list);
	sysfs_free(NULL);
	CHECK("free: twice and NULL are harmless, the list still empty", list.devices == NULL && list.count == 0);
}

static void test_shared_ids_sorted(void)
{
	char root[PATH_MAX], names[256];
	struct usb_device_list list;

	/* Created out of order; devnums 12 and 3 also catch a textual sort. */
	new_root(root, sizeof root, "shared");
	add_bus(root, 2);
	add_device(root, "2-1", "0627", "0001", 3, NULL, 0);
	add_bus(root, 1);
	add_device(root, "1-2", "0627", "0001", 12, NULL, 0);
	add_device(root, "1-1", "0627", "0001", 3, NULL, 0);

	CHECK("shared ids: scan succeeds", scan_ok(root, &list));
	CHECK_STR("shared ids: sorted by (bus, devnum)", names_of(&list, names, sizeof names),
		  "usb1 1-1 1-2 usb2 2-1");
	size_t same = 0;
	for (size_t i = 0; i < list.count; i++)
		if (list.devices[i].id.vendor == 0x0627 && list.devices[i].id.product == 0x0001)
			same++;
	CHECK("shared ids: all three 0627:0001 listed", same == 3);
	const struct usb_device *last = find_device(&list, "2-1");
	CHECK("shared ids: 2-1 is 2/3 dev 189:130",
	      last && last->addr.bus == 2 && last->addr.device == 3 && last->dev_major == 189 && last->dev_minor == 130);
	sysfs_free(&list);
}

static void test_missing_vendor_skipped(void)
{
	char root[PATH_MAX], dir[PATH_MAX], path[PATH_MAX], names[256];
	struct usb_device_list list;

	new_root(root, sizeof root, "missing");
	add_bus(root, 1);
	add_device(root, "1-1", "0627", "0001", 2, NULL, 0);
	add_device(root, "1-2", "0627", "0001", 3, dir, sizeof dir);
	format_path(path, sizeof path, "%s/idVendor", dir);
	if (unlink(path) < 0)
		fixture_fail("unlink %s: %s", path, strerror(errno));

	CHECK("missing idVendor: scan succeeds", scan_ok(root, &list));
	CHECK_STR("missing idVendor: device skipped", names_of(&list, names, sizeof names), "usb1 1-1");
	sysfs_free(&list);
}

#define ZEROS_16 "0000000000000000"

enum bad_kind { BAD_CONTENT, BAD_SYMLINK_DEV_ZERO, BAD_SYMLINK_VALID, BAD_FIFO, BAD_DIRECTORY, BAD_HUGE };

struct bad_attribute {
	const char *label, *attribute, *content;
	enum bad_kind kind;
};

static const struct bad_attribute bad_attributes[] = {
	{ "empty idVendor", "idVendor", "", BAD_CONTENT },
	{ "newline-only idVendor", "idVendor", "\n", BAD_CONTENT },
	{ "idVendor zzzz", "idVendor", "zzzz\n", BAD_CONTENT },
	{ "idVendor 12345", "idVendor", "12345\n", BAD_CONTENT },
	{ "idVendor with space", "idVendor", "0627 \n", BAD_CONTENT },
	{ "idVendor two newlines", "idVendor", "0627\n\n", BAD_CONTENT },
	{ "idVendor 0x62", "idVendor", "0x62\n", BAD_CONTENT },
	{ "idProduct 3 digits", "idProduct", "001\n", BAD_CONTENT },
	{ "busnum -1", "busnum", "-1\n", BAD_CONTENT },
	{ "busnum 0", "busnum", "0\n", BAD_CONTENT },
	{ "busnum 1000", "busnum", "1000\n", BAD_CONTENT },
	{ "busnum +1", "busnum", "+1\n", BAD_CONTENT },
	{ "devnum 0", "devnum", "0\n", BAD_CONTENT },
	{ "devnum space", "devnum", " 3\n", BAD_CONTENT },
	{ "devnum overflow", "devnum", "4294967299\n", BAD_CONTENT },
	{ "dev without minor", "dev", "189\n", BAD_CONTENT },
	{ "dev three parts", "dev", "189:1:2\n", BAD_CONTENT },
	{ "dev empty", "dev", "", BAD_CONTENT },
	{ "huge idProduct", "idProduct", NULL, BAD_HUGE },
	{ "idVendor symlink to /dev/zero", "idVendor", NULL, BAD_SYMLINK_DEV_ZERO },
	{ "idVendor symlink to a well-formed file", "idVendor", NULL, BAD_SYMLINK_VALID },
	{ "busnum fifo", "busnum", NULL, BAD_FIFO },
	{ "devnum directory", "devnum", NULL, BAD_DIRECTORY },
	/* as long as the read buffer: too long, whatever it holds */
	{ "idVendor of exactly 64 bytes", "idVendor", ZEROS_16 ZEROS_16 ZEROS_16 "000000000000000\n", BAD_CONTENT },
};

static void spoil_attribute(const char *dir, const struct bad_attribute *bad)
{
	char path[PATH_MAX];

	format_path(path, sizeof path, "%s/%s", dir, bad->attribute);
	if (unlink(path) < 0)
		fixture_fail("unlink %s: %s", path, strerror(errno));
	switch (bad->kind) {
	case BAD_CONTENT:
		write_text(dir, bad->attribute, bad->content);
		break;
	case BAD_HUGE: {
		static char zeros[1 << 16];
		memset(zeros, '0', sizeof zeros);
		write_bytes(dir, bad->attribute, zeros, sizeof zeros);
		break;
	}
	case BAD_SYMLINK_DEV_ZERO:
		make_symlink("/dev/zero", path);
		break;
	case BAD_SYMLINK_VALID: /* sysfs attributes are never symlinks: not followed even to good text */
		write_text(dir, "good-idVendor", "0627\n");
		make_symlink("good-idVendor", path);
		break;
	case BAD_FIFO:
		if (mkfifo(path, 0644) < 0)
			fixture_fail("mkfifo %s: %s", path, strerror(errno));
		break;
	case BAD_DIRECTORY:
		make_dirs(path);
		break;
	}
}

static void test_malformed_attributes_skipped(void)
{
	for (size_t i = 0; i < sizeof bad_attributes / sizeof bad_attributes[0]; i++) {
		const struct bad_attribute *bad = &bad_attributes[i];
		char root[PATH_MAX], dir[PATH_MAX], name[64], label[160];
		struct usb_device_list list;

		format_path(name, sizeof name, "malformed%zu", i);
		new_root(root, sizeof root, name);
		add_bus(root, 1);
		add_device(root, "1-1", "0627", "0001", 2, NULL, 0);
		add_device(root, "1-2", "0627", "0001", 3, dir, sizeof dir);
		spoil_attribute(dir, bad);

		int ok = scan_ok(root, &list);
		format_path(label, sizeof label, "malformed (%s): device skipped, others kept", bad->label);
		check_listed(label, ok, &list, "usb1 1-1");

		/* a wanted device is validated as fully as by sysfs_scan */
		const struct usb_id want[] = { { 0x0627, 0x0001 } };
		ok = scan_ids_ok(root, want, 1, &list);
		format_path(label, sizeof label, "malformed (%s): wanted device skipped, others kept", bad->label);
		check_listed(label, ok, &list, "1-1");
	}
}

/* An inotify descriptor reporting every file opened in dir, and dir itself. */
static int watch_opens(const char *dir)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (fd < 0 || inotify_add_watch(fd, dir, IN_OPEN) < 0)
		fixture_fail("inotify on %s: %s", dir, strerror(errno));
	return fd;
}

/* The names opened since watch_opens, in order, "." for the directory; closes fd. */
static const char *opened(int fd, char *buf, size_t size)
{
	char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	size_t used = 0;
	ssize_t n;

	buf[0] = '\0';
	while ((n = read(fd, events, sizeof events)) > 0) {
		for (char *p = events; p < events + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
			int w = snprintf(buf + used, size - used, "%s%s", used ? " " : "", ev->len ? ev->name : ".");
			if (w < 0 || (size_t)w >= size - used)
				fixture_fail("too many opens to list");
			used += (size_t)w;
			p += sizeof *ev + ev->len;
		}
	}
	if (n < 0 && errno != EAGAIN)
		fixture_fail("read inotify: %s", strerror(errno));
	if (close(fd) < 0)
		fixture_fail("close inotify: %s", strerror(errno));
	return buf;
}

static void test_scan_ids_reads_only_ids(void)
{
	char root[PATH_MAX], names[256], seen[256];
	char other_dir[PATH_MAX], sibling_dir[PATH_MAX], fifo_dir[PATH_MAX], broken_dir[PATH_MAX], path[PATH_MAX];
	const struct usb_id want[] = { { 0x0627, 0x0001 }, { 0x0627, 0xffff } };
	struct usb_device_list list;

	new_root(root, sizeof root, "ids");
	add_bus(root, 1);                                                     /* 1d6b:0002 */
	add_device(root, "1-1", "0627", "0001", 2, NULL, 0);                  /* wanted */
	add_device(root, "1-2", "046d", "c077", 3, other_dir, sizeof other_dir);
	add_device(root, "1-3", "046d", "0001", 4, sibling_dir, sizeof sibling_dir);
	/* not wanted by product, and an idVendor that must not be touched */
	add_device(root, "1-4", "0627", "0003", 5, fifo_dir, sizeof fifo_dir);
	format_path(path, sizeof path, "%s/idVendor", fifo_dir);
	if (unlink(path) < 0 || mkfifo(path, 0644) < 0)
		fixture_fail("mkfifo %s: %s", path, strerror(errno));
	/* a wanted product with a malformed idVendor: skipped, scan goes on */
	add_device(root, "1-5", "0627", "ffff", 6, broken_dir, sizeof broken_dir);
	write_text(broken_dir, "idVendor", "06277\n");

	int other = watch_opens(other_dir), sibling = watch_opens(sibling_dir), fifo = watch_opens(fifo_dir);
	CHECK("ids: scan succeeds", scan_ids_ok(root, want, 2, &list));
	CHECK_STR("ids: only the wanted device listed", names_of(&list, names, sizeof names), "1-1");
	const struct usb_device *d = find_device(&list, "1-1");
	CHECK("ids: wanted device fully read",
	      d && d->id.vendor == 0x0627 && d->id.product == 0x0001 && d->addr.bus == 1 && d->addr.device == 2 &&
	      d->dev_major == 189 && d->dev_minor == 1);
	sysfs_free(&list);
	CHECK_STR("ids: other product: only idProduct opened, not its directory",
		  opened(other, seen, sizeof seen), "idProduct");
	CHECK_STR("ids: other product: idVendor fifo never opened", opened(fifo, seen, sizeof seen), "idProduct");
	/* a product match is mostly the wanted device, whose ids are read through its directory anyway */
	CHECK_STR("ids: wanted product, other vendor: idVendor read only through its directory, idProduct not again",
		  opened(sibling, seen, sizeof seen), "idProduct . idVendor");

	CHECK("ids: nothing wanted: scan succeeds", scan_ids_ok(root, want, 0, &list));
	CHECK("ids: nothing wanted: no devices", list.count == 0);
	sysfs_free(&list);
}

static void test_scan_addrs(void)
{
	char root[PATH_MAX], names[256], seen[256], other_dir[PATH_MAX];
	const struct usb_id want[] = { { 0x0627, 0x0001 } };
	const struct usb_addr addrs[] = { { 1, 2 }, { 1, 4 }, { 1, 9 } };
	struct usb_device_list list;
	struct error err = { "" };

	new_root(root, sizeof root, "addrs");
	add_bus(root, 1);
	add_device(root, "1-1", "0627", "0001", 2, NULL, 0);
	add_device(root, "1-2", "046d", "c077", 3, other_dir, sizeof other_dir);
	add_device(root, "1-3", "046d", "0002", 4, NULL, 0);
	CHECK("addrs: a scan by id first", scan_ids_ok(root, want, 1, &list) && list.count == 1);
	int other = watch_opens(other_dir);
	CHECK("addrs: scan succeeds", sysfs_scan_addrs(root, addrs, 3, &list, &err) == 0);
	CHECK_STR("addrs: the device at an address added, sorted, none twice", names_of(&list, names, sizeof names),
		  "1-1 1-3");
	const struct usb_device *d = find_device(&list, "1-3");
	CHECK("addrs: the device added fully read", d && d->id.vendor == 0x046d && d->id.product == 0x0002 &&
	      d->addr.bus == 1 && d->addr.device == 4 && d->dev_major == 189);
	CHECK_STR("addrs: another device: only busnum and devnum opened, not its directory",
		  opened(other, seen, sizeof seen), "busnum devnum");
	sysfs_free(&list);
	CHECK("addrs: added to an empty list", sysfs_scan_addrs(root, addrs + 1, 1, &list, &err) == 0 &&
	      list.count == 1 && list.devices[0].addr.device == 4);
	sysfs_free(&list);
}

static void test_odd_entries_skipped(void)
{
	char root[PATH_MAX], dir[PATH_MAX], link[PATH_MAX], target[PATH_MAX], names[256];
	struct usb_device_list list;

	new_root(root, sizeof root, "odd");
	add_bus(root, 1);
	add_device(root, "1-1", "0627", "0001", 2, dir, sizeof dir);
	/* a well-formed device under a dot name, and one under a name too long to keep */
	format_path(target, sizeof target, "../../../devices/%s", dir + strlen(root) + strlen("/sys/devices/"));
	format_path(link, sizeof link, "%s/sys/bus/usb/devices/.1-1", root);
	make_symlink(target, link);
	format_path(link, sizeof link, "%s/sys/bus/usb/devices/1-1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1", root);
	make_symlink(target, link);
	/* an interface that (unlike the kernel's) carries device attributes is still an interface */
	format_path(target, sizeof target, "%s/1-1:1.0", dir);
	write_attributes(target, "0627", "0001", 1, 9);
	/* dangling, self-looping and plain-file entries */
	format_path(link, sizeof link, "%s/sys/bus/usb/devices/1-7", root);
	make_symlink("../../../devices/nowhere", link);
	format_path(link, sizeof link, "%s/sys/bus/usb/devices/1-8", root);
	make_symlink("1-8", link);
	format_path(link, sizeof link, "%s/sys/bus/usb/devices", root);
	write_text(link, "1-9", "not a directory\n");

	CHECK("odd entries: scan succeeds", scan_ok(root, &list));
	CHECK_STR("odd entries: only real devices listed", names_of(&list, names, sizeof names), "usb1 1-1");
	sysfs_free(&list);
}

static void test_empty_bus(void)
{
	char root[PATH_MAX];
	struct usb_device_list list;

	new_root(root, sizeof root, "empty");
	CHECK("empty bus list: scan succeeds", scan_ok(root, &list));
	CHECK("empty bus list: no devices", list.count == 0);
	sysfs_free(&list);
}

static void test_missing_devices_dir(void)
{
	/* small enough that CHECK_STR's 1024-byte detail buffer cannot truncate */
	char root[256], want[400];
	struct error err;
	struct usb_device_list list = { (struct usb_device *)&list, 42 };

	format_path(root, sizeof root, "%s/nosys", tmpdir);
	make_dirs(root);
	memset(&err, 0, sizeof err);
	CHECK("missing devices dir: fails", sysfs_scan(root, &list, &err) == -1);
	format_path(want, sizeof want, "cannot read %s/sys/bus/usb/devices: No such file or directory", root);
	CHECK_STR("missing devices dir: message names the path", err.message, want);
	CHECK("missing devices dir: list left empty", list.devices == NULL && list.count == 0);

	/* the devices "directory" is a file */
	format_path(root, sizeof root, "%s/filesys", tmpdir);
	format_path(want, sizeof want, "%s/sys/bus/usb", root);
	make_dirs(want);
	write_text(want, "devices", "");
	CHECK("devices is a file: fails", sysfs_scan(root, &list, &err) == -1);
	format_path(want, sizeof want, "cannot read %s/sys/bus/usb/devices: Not a directory", root);
	CHECK_STR("devices is a file: message", err.message, want);
}

static void test_root_trailing_slash(void)
{
	char root[PATH_MAX], slashed[PATH_MAX], names[256];
	struct usb_device_list list;

	new_root(root, sizeof root, "slash");
	add_bus(root, 1);
	add_device(root, "1-1", "0627", "0001", 2, NULL, 0);

	format_path(slashed, sizeof slashed, "%s/", root);
	CHECK("root with trailing slash: scan succeeds", scan_ok(slashed, &list));
	CHECK_STR("root with trailing slash: devices", names_of(&list, names, sizeof names), "usb1 1-1");
	sysfs_free(&list);

	format_path(slashed, sizeof slashed, "%s///", root);
	CHECK("root with several trailing slashes: scan succeeds", scan_ok(slashed, &list));
	CHECK_STR("root with several trailing slashes: devices", names_of(&list, names, sizeof names), "usb1 1-1");
	sysfs_free(&list);

	struct error err = { "" };
	format_path(slashed, sizeof slashed, "%s/missing/", root);
	CHECK("root with trailing slash: error path", sysfs_scan(slashed, &list, &err) == -1);
	CHECK("root with trailing slash: no double slash in message", strstr(err.message, "//") == NULL);
}

static void test_too_many_devices(void)
{
	char root[PATH_MAX], dir[PATH_MAX], target[PATH_MAX], link[PATH_MAX];
	struct error err = { "" };
	struct usb_device_list list;

	/* Many bus entries pointing at one device directory: cheap to build. */
	new_root(root, sizeof root, "many");
	add_bus(root, 1);
	add_device(root, "1-1", "0627", "0001", 2, dir, sizeof dir);
	format_path(target, sizeof target, "../../../devices/%s", dir + strlen(root) + strlen("/sys/devices/"));
	for (unsigned i = 0; i < 4094; i++) {
		format_path(link, sizeof link, "%s/sys/bus/usb/devices/x%u", root, i);
		make_symlink(target, link);
	}
	CHECK("4096 devices: scan succeeds", scan_ok(root, &list));
	CHECK("4096 devices: all listed", list.count == 4096);
	sysfs_free(&list);

	format_path(link, sizeof link, "%s/sys/bus/usb/devices/x4094", root);
	make_symlink(target, link);
	CHECK("4097 devices: fails", sysfs_scan(root, &list, &err) == -1);
	CHECK("4097 devices: message", strncmp(err.message, "too many USB devices", 20) == 0);
	CHECK("4097 devices: list left empty", list.devices == NULL && list.count == 0);
}

static void test_root_path_too_long(void)
{
	static char root[PATH_MAX + 16];
	struct error err = { "" };
	struct usb_device_list list;

	memset(root, 'a', sizeof root - 1);
	root[0] = '/';
	CHECK("overlong root: fails", sysfs_scan(root, &list, &err) == -1);
	CHECK_STR("overlong root: message", err.message, "root directory path too long");
}

/* /sys/bus/usb/devices/NAME/ATTR as a number in base, read with stdio; -1 when it cannot be read */
static long host_attribute(const char *name, const char *attr, int base)
{
	char path[PATH_MAX], text[32] = "";
	format_path(path, sizeof path, "/sys/bus/usb/devices/%s/%s", name, attr);
	FILE *f = fopen(path, "r");
	bool read = f && fgets(text, sizeof text, f);
	if (f)
		fclose(f);
	char *end;
	long value = read ? strtol(text, &end, base) : -1;
	return read && end != text ? value : -1;
}

/* Whether dev is what the host's sysfs says of the device named name. */
static bool same_as_host(const struct usb_device *dev, const char *name)
{
	return dev && host_attribute(name, "busnum", 10) == (long)dev->addr.bus &&
	       host_attribute(name, "devnum", 10) == (long)dev->addr.device &&
	       host_attribute(name, "idVendor", 16) == (long)dev->id.vendor &&
	       host_attribute(name, "idProduct", 16) == (long)dev->id.product;
}

/*
 * The host's own sysfs, read by sysfs_scan and, independently, entry by entry
 * with stdio: the same devices (interfaces "B-P:C.I" aside) with the same
 * numbers, sorted.  Where the host has no USB, that is said and what can
 * still be checked is: the error names the directory.
 */
static void test_real_host(void)
{
	const char *roots[] = { "/", "" };
	DIR *dir = opendir("/sys/bus/usb/devices");
	if (!dir) {
		printf("SKIP real host: no devices to compare: /sys/bus/usb/devices: %s\n", strerror(errno));
		for (size_t i = 0; i < 2; i++) {
			char name[64];
			struct error err = { "" };
			struct usb_device_list list;
			int status = sysfs_scan(roots[i], &list, &err);
			format_path(name, sizeof name, "real host (root \"%s\"): no USB, a clean error", roots[i]);
			CHECK(name, status == -1 && strncmp(err.message, "cannot read /sys/bus/usb/devices: ", 34) == 0 &&
				    list.count == 0 && list.devices == NULL);
		}
		return;
	}
	struct error err = { "" };
	struct usb_device_list list;
	int status = sysfs_scan("/", &list, &err);
	if (!CHECK("real host: scanned", status == 0)) {
		printf("  | %s\n", err.message);
		closedir(dir);
		return;
	}
	size_t devices = 0, differ = 0;
	for (struct dirent *d; (d = readdir(dir)) != NULL;) {
		if (d->d_name[0] == '.' || strchr(d->d_name, ':'))
			continue;
		devices++;
		if (!same_as_host(find_device(&list, d->d_name), d->d_name) && ++differ <= 3)
			printf("  | %s: not as the host's sysfs says\n", d->d_name);
	}
	closedir(dir);
	if (devices == 0)
		printf("SKIP real host: devices compared: this host has no USB device\n");
	CHECK("real host: every device as the host's sysfs says, none more", differ == 0 && list.count == devices);
	bool sorted = true;
	for (size_t j = 1; j < list.count; j++) {
		const struct usb_device *a = &list.devices[j - 1], *b = &list.devices[j];
		sorted &= a->addr.bus < b->addr.bus || (a->addr.bus == b->addr.bus && a->addr.device < b->addr.device);
	}
	CHECK("real host: sorted by bus and device", sorted);
	struct usb_device_list again;
	CHECK("real host: root \"\" is the host too", sysfs_scan("", &again, &err) == 0 &&
	      again.count == list.count);
	if (again.count == list.count)
		sysfs_free(&again);
	sysfs_free(&list);
}

/* ---- parsers ---- */

struct parse_case {
	const char *text;
	size_t len;
	int status;
	unsigned first, second;
};

#define TEXT(s) s, sizeof(s) - 1

static const struct parse_case id_cases[] = {
	{ TEXT("0627\n"), 0, 0x0627, 0 },
	{ TEXT("0627"), 0, 0x0627, 0 },
	{ TEXT("1d6b\n"), 0, 0x1d6b, 0 },
	{ TEXT("BEEF\n"), 0, 0xbeef, 0 },
	{ TEXT("ffff\n"), 0, 0xffff, 0 },
	{ TEXT("0000\n"), 0, 0, 0 },
	{ TEXT(""), -1, 0, 0 },
	{ TEXT("\n"), -1, 0, 0 },
	{ TEXT("627\n"), -1, 0, 0 },
	{ TEXT("12345\n"), -1, 0, 0 },
	{ TEXT("zzzz\n"), -1, 0, 0 },
	{ TEXT("0627 \n"), -1, 0, 0 },
	{ TEXT(" 627\n"), -1, 0, 0 },
	{ TEXT("0627\n\n"), -1, 0, 0 },
	{ TEXT("0627\r\n"), -1, 0, 0 },
	{ TEXT("\n0627"), -1, 0, 0 },
	{ TEXT("06\00027\n"), -1, 0, 0 },
	{ TEXT("0627\0"), -1, 0, 0 },
	{ TEXT("+627"), -1, 0, 0 },
	{ TEXT("-627"), -1, 0, 0 },
	{ TEXT("0x62"), -1, 0, 0 },
	{ TEXT("062g"), -1, 0, 0 },
	{ TEXT("\xff\xff\xff\xff"), -1, 0, 0 },
};

static const struct parse_case number_cases[] = {
	{ TEXT("1\n"), 0, 1, 0 },
	{ TEXT("5"), 0, 5, 0 },
	{ TEXT("42\n"), 0, 42, 0 },
	{ TEXT("999\n"), 0, 999, 0 },
	{ TEXT(""), -1, 0, 0 },
	{ TEXT("\n"), -1, 0, 0 },
	{ TEXT("0\n"), -1, 0, 0 },
	{ TEXT("1000\n"), -1, 0, 0 },
	{ TEXT("007\n"), -1, 0, 0 },
	{ TEXT("-1\n"), -1, 0, 0 },
	{ TEXT("+1\n"), -1, 0, 0 },
	{ TEXT(" 1\n"), -1, 0, 0 },
	{ TEXT("1 \n"), -1, 0, 0 },
	{ TEXT("1\n\n"), -1, 0, 0 },
	{ TEXT("1\0"), -1, 0, 0 },
	{ TEXT("1\0002"), -1, 0, 0 },
	{ TEXT("0x1"), -1, 0, 0 },
	{ TEXT("4294967296\n"), -1, 0, 0 },
	{ TEXT("99999999999999999999999\n"), -1, 0, 0 },
	{ TEXT("1a"), -1, 0, 0 },
};

static const struct parse_case devt_cases[] = {
	{ TEXT("189:4\n"), 0, 189, 4 },
	{ TEXT("189:0"), 0, 189, 0 },
	{ TEXT("0:0\n"), 0, 0, 0 },
	{ TEXT("4095:1048575\n"), 0, 4095, 1048575 },
	{ TEXT("4294967295:4294967295\n"), 0, 4294967295u, 4294967295u },
	{ TEXT(""), -1, 0, 0 },
	{ TEXT("\n"), -1, 0, 0 },
	{ TEXT(":"), -1, 0, 0 },
	{ TEXT("189\n"), -1, 0, 0 },
	{ TEXT("189:\n"), -1, 0, 0 },
	{ TEXT(":4\n"), -1, 0, 0 },
	{ TEXT("189:4:1\n"), -1, 0, 0 },
	{ TEXT("189::4\n"), -1, 0, 0 },
	{ TEXT("189:4\n\n"), -1, 0, 0 },
	{ TEXT("189 :4\n"), -1, 0, 0 },
	{ TEXT("189: 4\n"), -1, 0, 0 },
	{ TEXT("-189:4\n"), -1, 0, 0 },
	{ TEXT("189:+4\n"), -1, 0, 0 },
	{ TEXT("0189:4\n"), -1, 0, 0 },
	{ TEXT("189:\0004\n"), -1, 0, 0 },
	{ TEXT("4294967296:0\n"), -1, 0, 0 },
	{ TEXT("0:4294967296\n"), -1, 0, 0 },
	{ TEXT("189:4x"), -1, 0, 0 },
};

enum parser { PARSE_ID, PARSE_NUMBER, PARSE_DEVT };

static int run_parser(enum parser parser, const char *text, size_t len, unsigned *first, unsigned *second)
{
	switch (parser) {
	case PARSE_ID:
		return sysfs_parse_id(text, len, first);
	case PARSE_NUMBER:
		return sysfs_parse_number(text, len, first);
	case PARSE_DEVT:
		return sysfs_parse_devt(text, len, first, second);
	}
	return -2;
}

static void describe(const char *text, size_t len, char *out, size_t size)
{
	size_t used = 0;

	for (size_t i = 0; i < len && used + 5 < size; i++) {
		unsigned char c = (unsigned char)text[i];
		int n = c >= 0x20 && c < 0x7f && c != '\\' ? snprintf(out + used, size - used, "%c", c)
			: c == '\n'                    ? snprintf(out + used, size - used, "\\n")
						       : snprintf(out + used, size - used, "\\x%02x", c);
		used += n > 0 ? (size_t)n : 0;
	}
	out[used < size ? used : size - 1] = '\0';
}

static void run_parse_cases(const char *label, enum parser parser, const struct parse_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct parse_case *c = &cases[i];
		/* a private copy with no terminator, so ASan sees any read past len */
		char *copy = malloc(c->len ? c->len : 1);
		unsigned first = 0xdeadbeef, second = 0xdeadbeef;
		char shown[128], name[256];

		if (!copy)
			fixture_fail("out of memory");
		memcpy(copy, c->text, c->len);
		int status = run_parser(parser, copy, c->len, &first, &second);
		free(copy);
		describe(c->text, c->len, shown, sizeof shown);
		format_path(name, sizeof name, "%s \"%s\" %s", label, shown, c->status == 0 ? "accepted" : "rejected");
		if (c->status == 0)
			CHECK(name, status == 0 && first == c->first && (parser != PARSE_DEVT || second == c->second));
		else
			CHECK(name, status == -1 && first == 0xdeadbeef && second == 0xdeadbeef);
	}
}

/* Every byte value at every position of short inputs: nothing but 0 or -1, no sanitizer report. */
static void test_parsers_total(void)
{
	char text[3];
	int total = 1;

	for (size_t len = 0; len <= sizeof text; len++)
		for (unsigned seed = 0; seed < 256 * 256; seed++) {
			for (size_t i = 0; i < len; i++)
				text[i] = (char)(unsigned char)((seed >> (8 * (i % 2))) + 17 * i);
			unsigned a, b;
			for (int p = PARSE_ID; p <= PARSE_DEVT; p++) {
				int status = run_parser((enum parser)p, text, len, &a, &b);
				if (status != 0 && status != -1)
					total = 0;
			}
		}
	CHECK("parsers: total on arbitrary short inputs", total);
	CHECK("parsers: NULL with length 0 rejected",
	      sysfs_parse_id(NULL, 0, &(unsigned){0}) == -1 && sysfs_parse_number(NULL, 0, &(unsigned){0}) == -1 &&
	      sysfs_parse_devt(NULL, 0, &(unsigned){0}, &(unsigned){0}) == -1);
}

static void test_find(void)
{
	struct usb_device devices[] = { { .addr = { 1, 1 } }, { .addr = { 1, 5 } }, { .addr = { 2, 1 } },
					{ .addr = { 2, 30 } }, { .addr = { 12, 3 } } };
	struct usb_device_list list = { devices, sizeof devices / sizeof devices[0] };
	int found = 1;

	for (size_t i = 0; i < list.count; i++)
		found &= sysfs_find(&list, devices[i].addr) == &devices[i];
	CHECK("find: every device of a sorted list", found);
	CHECK("find: not there", !sysfs_find(&list, (struct usb_addr){ 1, 2 }) &&
	      !sysfs_find(&list, (struct usb_addr){ 0, 0 }) && !sysfs_find(&list, (struct usb_addr){ 13, 1 }));
	list.count = 0;
	CHECK("find: empty list", !sysfs_find(&list, devices[0].addr));
}

/* tmpfs when there is one: the 4097-entry bus list takes seconds of symlink(2) on a disk */
static void make_tmpdir(void)
{
	struct stat st;
	const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0
			   ? "/dev/shm" : "/tmp";

	format_path(tmpdir, sizeof tmpdir, "%s/unit_sysfs.XXXXXX", base);
	if (!mkdtemp(tmpdir))
		fixture_fail("mkdtemp %s: %s", tmpdir, strerror(errno));
}

/* ---- ports, serials, speeds, hubs ---- */

static char port_text[USB_PORT_TEXT_SIZE];

static const char *port_of(const struct usb_device *d)
{
	if (!d || usb_port_format(&d->port, port_text, sizeof port_text) < 0)
		return "(none)";
	return port_text;
}

static void test_details(void)
{
	char root[PATH_MAX], dir[PATH_MAX], long_serial[SERIAL_MAX + 2];
	struct usb_device_list list;

	new_root(root, sizeof root, "details");
	add_bus(root, 1);
	add_bus(root, 2);
	bus_dir(dir, sizeof dir, root, 2);
	write_text(dir, "idProduct", "0003\n");
	write_text(dir, "speed", "5000\n");
	add_device(root, "1-3", "05e3", "0608", 2, dir, sizeof dir);
	write_text(dir, "bDeviceClass", "09\n");
	add_device(root, "1-3.1", "0529", "0001", 3, dir, sizeof dir);
	write_text(dir, "serial", "A1B2\n");
	write_text(dir, "speed", "12\n");
	add_device(root, "1-3.2", "0529", "0001", 4, dir, sizeof dir);
	write_text(dir, "serial", "A1 B2\n");
	write_text(dir, "speed", "1.5\n");
	add_device(root, "1-4", "0529", "0001", 5, dir, sizeof dir);
	memset(long_serial, 'x', sizeof long_serial - 1);
	long_serial[sizeof long_serial - 1] = '\0';
	write_text(dir, "serial", long_serial);
	add_device(root, "2-1", "0781", "5567", 2, dir, sizeof dir);
	write_text(dir, "speed", "5000\n");
	write_text(dir, "serial", "4C530001\n");

	CHECK("details: scan succeeds", scan_ok(root, &list));
	const struct usb_device *root_hub = find_device(&list, "usb2"), *hub = find_device(&list, "1-3");
	const struct usb_device *key = find_device(&list, "1-3.1"), *spaced = find_device(&list, "1-3.2");
	const struct usb_device *longer = find_device(&list, "1-4"), *stick = find_device(&list, "2-1");
	CHECK_STR("details: a root hub's port is usbN", port_of(root_hub), "usb2");
	CHECK("details: a root hub is a hub, at depth 0", root_hub && root_hub->hub && root_hub->port.depth == 0);
	CHECK_STR("details: a USB 3 root hub's speed", root_hub ? root_hub->speed : "", "5000");
	CHECK("details: bDeviceClass 09 is a hub", hub && hub->hub);
	CHECK("details: bDeviceClass 00 is not", key && !key->hub);
	CHECK_STR("details: the port behind a hub", port_of(key), "1-3.1");
	CHECK("details: its port, parsed", key && key->port.bus == 1 && key->port.depth == 2 && key->port.ports[1] == 1);
	CHECK("details: a usable serial",
	      key && key->serial_kind == USB_SERIAL_USABLE && strcmp(key->serial, "A1B2") == 0 && !key->serial_cut);
	CHECK_STR("details: full speed", key ? key->speed : "", "12");
	CHECK("details: no serial attribute", hub && hub->serial_kind == USB_SERIAL_NONE && hub->serial[0] == '\0');
	CHECK("details: a serial with a space is kept but not usable",
	      spaced && spaced->serial_kind == USB_SERIAL_UNUSABLE && strcmp(spaced->serial, "A1 B2") == 0);
	CHECK_STR("details: low speed", spaced ? spaced->speed : "", "1.5");
	CHECK("details: a serial of 65 characters is cut and not usable",
	      longer && longer->serial_kind == USB_SERIAL_UNUSABLE && longer->serial_cut &&
	      strlen(longer->serial) == SERIAL_MAX);
	CHECK("details: a device on a USB 3 bus",
	      stick && strcmp(stick->speed, "5000") == 0 && stick->port.bus == 2 && stick->serial_kind == USB_SERIAL_USABLE);
	sysfs_free(&list);

	/* the details of a wanted device come with sysfs_scan_ids too */
	const struct usb_id want[] = { { 0x0529, 0x0001 } };
	CHECK("details: ids scan succeeds", scan_ids_ok(root, want, 1, &list));
	key = find_device(&list, "1-3.1");
	CHECK("details: a wanted device has its serial and port",
	      key && key->serial_kind == USB_SERIAL_USABLE && key->port.depth == 2);
	CHECK_STR("details: a wanted device's speed is not read (a start has no use for it)", key ? key->speed : "x", "");
	sysfs_free(&list);
}

static void test_read_port(void)
{
	char root[PATH_MAX], dir[PATH_MAX];
	struct error err = { "" };
	struct usb_device device;
	struct usb_port port;

	new_root(root, sizeof root, "byport");
	add_bus(root, 1);
	add_device(root, "1-3", "05e3", "0608", 2, dir, sizeof dir);
	write_text(dir, "bDeviceClass", "09\n");
	add_device(root, "1-3.1", "0627", "0001", 3, dir, sizeof dir);
	add_device(root, "1-4", "0627", "0001", 4, dir, sizeof dir);
	write_text(dir, "busnum", "x\n");

	usb_port_parse("1-3.1", 5, &port);
	CHECK("read port: the device there",
	      sysfs_read_port(root, &port, &device, &err) == 0 && strcmp(device.name, "1-3.1") == 0 &&
	      device.addr.device == 3 && device.id.vendor == 0x0627 && !device.hub);
	usb_port_parse("1-3", 3, &port);
	CHECK("read port: a hub is read, and is a hub",
	      sysfs_read_port(root, &port, &device, &err) == 0 && device.hub);
	usb_port_parse("1-5", 3, &port);
	CHECK("read port: nothing there", sysfs_read_port(root, &port, &device, &err) == 1);
	usb_port_parse("1-3.1.2", 7, &port);
	CHECK("read port: nothing there, deeper", sysfs_read_port(root, &port, &device, &err) == 1);
	usb_port_parse("1-4", 3, &port);
	CHECK("read port: a malformed device is an error",
	      sysfs_read_port(root, &port, &device, &err) == -1 && strstr(err.message, "/1-4: not a readable USB device"));

	struct usb_device_list list;
	const struct usb_id none[] = { { 0xffff, 0xffff } };
	CHECK("read port: scan succeeds", scan_ids_ok(root, none, 1, &list) && list.count == 0);
	usb_port_parse("1-3.1", 5, &port);
	sysfs_read_port(root, &port, &device, &err);
	CHECK("add: into an empty list", sysfs_add(&list, &device) == 0 && list.count == 1);
	CHECK("add: a device already there is not added twice", sysfs_add(&list, &device) == 0 && list.count == 1);
	usb_port_parse("1-3", 3, &port);
	sysfs_read_port(root, &port, &device, &err);
	CHECK("add: kept sorted by address", sysfs_add(&list, &device) == 0 && list.count == 2 &&
					      list.devices[0].addr.device == 2 && list.devices[1].addr.device == 3);
	sysfs_free(&list);
}

static void test_detail_parsers(void)
{
	char kept[SERIAL_MAX + 1], speed[8] = "old";
	bool cut;
	CHECK("serial: usable", sysfs_parse_serial("A1.b_2:-\n", 9, kept, &cut) == USB_SERIAL_USABLE && !cut &&
				      strcmp(kept, "A1.b_2:-") == 0);
	CHECK("serial: empty is none", sysfs_parse_serial("\n", 1, kept, &cut) == USB_SERIAL_NONE);
	CHECK("serial: a control byte is shown as ?",
	      sysfs_parse_serial("A\001B\n", 4, kept, &cut) == USB_SERIAL_UNUSABLE && strcmp(kept, "A?B") == 0);
	CHECK("serial: a NUL byte", sysfs_parse_serial("A\0B", 3, kept, &cut) == USB_SERIAL_UNUSABLE);
	CHECK("serial: 64 characters are usable",
	      sysfs_parse_serial("0123456789012345678901234567890123456789012345678901234567890123\n", 65, kept, &cut) ==
	      USB_SERIAL_USABLE && !cut);
	CHECK("speed: 5000", sysfs_parse_speed("5000\n", 5, speed) == 0 && strcmp(speed, "5000") == 0);
	CHECK("speed: 1.5", sysfs_parse_speed("1.5\n", 4, speed) == 0 && strcmp(speed, "1.5") == 0);
	static const char *const bad_speeds[] = { "", "\n", "fast\n", "1..5\n", ".5\n", "5.\n", "12345678\n", "1.5.1\n" };
	for (size_t i = 0; i < sizeof bad_speeds / sizeof bad_speeds[0]; i++) {
		char name[64];
		strcpy(speed, "old");
		snprintf(name, sizeof name, "speed: rejects bad speed %zu, output untouched", i);
		CHECK(name, sysfs_parse_speed(bad_speeds[i], strlen(bad_speeds[i]), speed) < 0 && strcmp(speed, "old") == 0);
	}
}

int main(void)
{
	make_tmpdir();
	atexit(remove_tmpdir);

	test_layout();
	test_shared_ids_sorted();
	test_missing_vendor_skipped();
	test_malformed_attributes_skipped();
	test_scan_ids_reads_only_ids();
	test_scan_addrs();
	test_odd_entries_skipped();
	test_empty_bus();
	test_missing_devices_dir();
	test_root_trailing_slash();
	test_too_many_devices();
	test_root_path_too_long();
	test_real_host();
	run_parse_cases("parse id", PARSE_ID, id_cases, sizeof id_cases / sizeof id_cases[0]);
	run_parse_cases("parse number", PARSE_NUMBER, number_cases, sizeof number_cases / sizeof number_cases[0]);
	run_parse_cases("parse devt", PARSE_DEVT, devt_cases, sizeof devt_cases / sizeof devt_cases[0]);
	test_parsers_total();
	test_find();
	test_details();
	test_read_port();
	test_detail_parsers();
	return check_status();
}

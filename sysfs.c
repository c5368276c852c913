/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host USB devices as the kernel lists them in <root>/sys/bus/usb/devices. */
#include "sysfs.h"
#include "format.h"
#include "host.h"
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Far more than any host has; a bus list beyond this is not a real one. */
#define MAX_DEVICES 4096
/* Every attribute we read is a few bytes; a file this long is malformed. */
#define MAX_ATTRIBUTE 64
/* "<entry>/<attribute>": entry names are shorter than usb_device.name */
#define MAX_ENTRY_PATH 64

/* ---- attribute parsers: total on any bytes, output written only on success ---- */

static size_t without_newline(const char *text, size_t len)
{
	return len > 0 && text[len - 1] == '\n' ? len - 1 : len;
}

int sysfs_parse_id(const char *text, size_t len, unsigned *id)
{
	len = without_newline(text, len);
	return len == 4 ? text_hex4(text, id) : -1;
}

int sysfs_parse_number(const char *text, size_t len, unsigned *number)
{
	unsigned result;

	len = without_newline(text, len);
	if (text_decimal(text, len, MAX_BUS_OR_DEVNUM, &result) < 0 || result == 0)
		return -1;
	*number = result;
	return 0;
}

int sysfs_parse_devt(const char *text, size_t len, unsigned *major, unsigned *minor)
{
	unsigned major_value, minor_value;

	len = without_newline(text, len);
	const char *colon = len > 0 ? memchr(text, ':', len) : NULL;
	if (!colon)
		return -1;
	size_t major_len = (size_t)(colon - text);
	if (text_decimal(text, major_len, UINT_MAX, &major_value) < 0 ||
	    text_decimal(colon + 1, len - major_len - 1, UINT_MAX, &minor_value) < 0)
		return -1;
	*major = major_value;
	*minor = minor_value;
	return 0;
}

enum usb_serial sysfs_parse_serial(const char *text, size_t len, char *kept, bool *cut)
{
	size_t i;

	len = without_newline(text, len);
	for (i = 0; i < len && i < SERIAL_MAX; i++) {
		unsigned char c = (unsigned char)text[i];
		kept[i] = (char)(c >= 0x20 && c < 0x7f ? c : '?');
	}
	kept[i] = '\0';
	*cut = len > SERIAL_MAX;
	if (len == 0)
		return USB_SERIAL_NONE;
	return serial_valid(text, len) ? USB_SERIAL_USABLE : USB_SERIAL_UNUSABLE;
}

int sysfs_parse_speed(const char *text, size_t len, char *speed)
{
	size_t dots = 0;

	len = without_newline(text, len);
	if (len == 0 || len > 7 || text[0] == '.' || text[len - 1] == '.')
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '.')
			dots++;
		else if (text[i] < '0' || text[i] > '9')
			return -1;
	}
	if (dots > 1)
		return -1;
	memcpy(speed, text, len);
	speed[len] = '\0';
	return 0;
}

const struct usb_device *sysfs_find(const struct usb_device_list *list, struct usb_addr addr)
{
	size_t low = 0, high = list->count;
	while (low < high) {
		size_t mid = low + (high - low) / 2;
		int order = usb_addr_compare(list->devices[mid].addr, addr);
		if (order == 0)
			return &list->devices[mid];
		if (order < 0)
			low = mid + 1;
		else
			high = mid;
	}
	return NULL;
}

/* ---- reading one device ---- */

/*
 * sysfs hands over a whole attribute in one read(2), so one read is enough;
 * a read that fills buf means a file too long to be an attribute.
 */
static int read_bounded(int fd, char *buf, size_t size, size_t *len)
{
	ssize_t n;

	do
		n = read(fd, buf, size);
	while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n >= size)
		return -1;
	*len = (size_t)n;
	return 0;
}

/*
 * A sysfs attribute is a regular file.  path is relative to dir_fd: either the
 * attribute's name in an open device directory, or "<entry>/<attribute>" in
 * the bus list, where the entry (a symlink into /sys/devices) is followed but
 * the attribute itself never is (O_NOFOLLOW).  A fifo or device node is opened
 * without blocking or becoming a controlling terminal, and rejected unread.
 */
static int read_attribute(int dir_fd, const char *path, char *buf, size_t size, size_t *len)
{
	struct stat st;
	int fd = openat(dir_fd, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && read_bounded(fd, buf, size, len) == 0;
	if (close(fd) != 0)
		ok = 0;
	if (!ok)
		errno = EINVAL;   /* it is there: only a failed open says ENOENT */
	return ok ? 0 : -1;
}

/* An attribute read and given to parse, which writes *value only on success. */
static int read_value(int dir_fd, const char *path, int (*parse)(const char *, size_t, unsigned *),
		      unsigned *value)
{
	char text[MAX_ATTRIBUTE];
	size_t len;

	if (read_attribute(dir_fd, path, text, sizeof text, &len) < 0)
		return -1;
	return parse(text, len, value);
}

static int read_id(int dir_fd, const char *path, unsigned *id)
{
	return read_value(dir_fd, path, sysfs_parse_id, id);
}

static int read_number(int dir_fd, const char *path, unsigned *number)
{
	return read_value(dir_fd, path, sysfs_parse_number, number);
}

static int read_devt(int dir_fd, const char *path, unsigned *major, unsigned *minor)
{
	char text[MAX_ATTRIBUTE];
	size_t len;

	if (read_attribute(dir_fd, path, text, sizeof text, &len) < 0)
		return -1;
	return sysfs_parse_devt(text, len, major, minor);
}

/*
 * What a device is besides its ids and address; none of it makes a device
 * unreadable.  The speed only when asked: only a listing shows it.
 */
static void read_details(int fd, const char *name, bool with_speed, struct usb_device *device)
{
	char text[512];
	size_t len;
	struct stat st;

	device->serial[0] = '\0';
	device->serial_cut = false;
	if (read_attribute(fd, "serial", text, sizeof text, &len) == 0) {
		device->serial_kind = sysfs_parse_serial(text, len, device->serial, &device->serial_cut);
	} else {
		/* there, but unreadable or far too long: shown as such, never selected by serial */
		device->serial_kind = errno != ENOENT && fstatat(fd, "serial", &st, AT_SYMLINK_NOFOLLOW) == 0
					      ? USB_SERIAL_UNUSABLE : USB_SERIAL_NONE;
		device->serial_cut = device->serial_kind == USB_SERIAL_UNUSABLE;
	}
	if (!with_speed || read_attribute(fd, "speed", text, sizeof text, &len) < 0 ||
	    sysfs_parse_speed(text, len, device->speed) < 0)
		device->speed[0] = '\0';
	if (sysfs_parse_port_name(name, strlen(name), &device->port) < 0)
		device->port = (struct usb_port){ 0, 0, { 0 } };
	device->hub = (device->port.bus && device->port.depth == 0) ||
		      (read_attribute(fd, "bDeviceClass", text, sizeof text, &len) == 0 &&
		       without_newline(text, len) == 2 && text[0] == '0' && text[1] == '9');
}

/* "<entry>/<attribute>", read relative to the bus list without opening the entry */
static int read_entry_value(int devices_fd, const char *name, const char *attribute,
			    int (*parse)(const char *, size_t, unsigned *), unsigned *value)
{
	char path[MAX_ENTRY_PATH];
	size_t name_len = strlen(name), attribute_len = strlen(attribute);

	/* copied, not formatted: every device of the host costs one of these */
	if (name_len + 1 + attribute_len >= sizeof path)
		return -1;
	memcpy(path, name, name_len + 1);
	path[name_len] = '/';
	memcpy(path + name_len + 1, attribute, attribute_len + 1);
	return read_value(devices_fd, path, parse, value);
}

struct filter {
	const struct usb_id *want;     /* NULL: every id */
	size_t nwant;
	const struct usb_addr *addrs;  /* sorted; NULL: every address */
	size_t naddrs;
	bool speed;                    /* read each device's speed too */
};

static int product_wanted(const struct filter *f, unsigned product)
{
	for (size_t i = 0; i < f->nwant; i++)
		if (f->want[i].product == product)
			return 1;
	return 0;
}

static int wanted(const struct filter *f, struct usb_id id)
{
	if (!f->want)
		return 1;
	for (size_t i = 0; i < f->nwant; i++)
		if (usb_id_equal(f->want[i], id))
			return 1;
	return 0;
}

static int address_wanted(const struct filter *f, struct usb_addr addr)
{
	size_t low = 0, high = f->naddrs;
	if (!f->addrs)
		return 1;
	while (low < high) {
		size_t mid = low + (high - low) / 2;
		int order = usb_addr_compare(f->addrs[mid], addr);
		if (order == 0)
			return 1;
		if (order < 0)
			low = mid + 1;
		else
			high = mid;
	}
	return 0;
}

/*
 * Whether the entry may be a device at a wanted address, from busnum and
 * devnum alone (no directory descriptor), as may_be_wanted from its ids.
 */
static int may_be_at(int devices_fd, const char *name, const struct filter *f)
{
	struct usb_addr addr = { 0, 0 };

	if (!f->addrs)
		return 1;
	return read_entry_value(devices_fd, name, "busnum", sysfs_parse_number, &addr.bus) == 0 &&
	       read_entry_value(devices_fd, name, "devnum", sysfs_parse_number, &addr.device) == 0 &&
	       address_wanted(f, addr);
}

/*
 * Whether the entry may be a wanted device, from its idProduct alone (into
 * *product): most devices on a host are not, and this costs them no directory
 * descriptor.  A host's devices often share a vendor (every root hub is 1d6b)
 * and rarely a product id, so this one read rules out most of them; a device
 * it does not rule out is mostly a wanted one, whose ids are read again
 * through its directory anyway, so its vendor is read only there.
 */
static int may_be_wanted(int devices_fd, const char *name, const struct filter *f, unsigned *product)
{
	if (!f->want)
		return 1;
	return read_entry_value(devices_fd, name, "idProduct", sysfs_parse_id, product) == 0 &&
	       product_wanted(f, *product);
}

/*
 * Returns 0 with *device filled, or -1 when the entry is not a wanted,
 * readable, well-formed USB device (the caller skips it).  The entry itself
 * is a symlink into /sys/devices, so it is followed; nothing below it is.
 * Every attribute kept, the ids too, is read through one directory
 * descriptor: were the entry replaced between reads (a device unplugged and
 * another plugged into the same port), they still all describe one device.
 * Its vendor, with the product read before, rules out a root hub of a wanted
 * product id before a second read of that id.
 */
static int read_device(int devices_fd, const char *name, const struct filter *f, struct usb_device *device)
{
	size_t name_len = strlen(name);
	unsigned product = 0;

	if (name_len >= sizeof device->name || !may_be_wanted(devices_fd, name, f, &product) ||
	    !may_be_at(devices_fd, name, f))
		return -1;
	int fd = openat(devices_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int ok = read_id(fd, "idVendor", &device->id.vendor) == 0 &&
		 wanted(f, (struct usb_id){ device->id.vendor, product }) &&
		 read_id(fd, "idProduct", &device->id.product) == 0 &&
		 wanted(f, device->id) &&
		 read_number(fd, "busnum", &device->addr.bus) == 0 &&
		 read_number(fd, "devnum", &device->addr.device) == 0 &&
		 address_wanted(f, device->addr) &&
		 read_devt(fd, "dev", &device->dev_major, &device->dev_minor) == 0;
	if (ok)
		read_details(fd, name, f->speed, device);
	if (close(fd) != 0 || !ok)
		return -1;
	memcpy(device->name, name, name_len + 1);
	return 0;
}

/* ---- the scan ---- */

/* Interfaces ("1-3.1:1.0") share the bus list with devices; dot names are not the kernel's. */
static int is_device_entry(const char *name)
{
	return name[0] != '.' && !strchr(name, ':');
}

static int append_device(struct usb_device_list *list, size_t *capacity, const struct usb_device *device)
{
	if (list->count == *capacity) {
		size_t new_capacity = *capacity ? *capacity * 2 : 4;
		if (new_capacity > SIZE_MAX / sizeof *list->devices)
			return -1;
		struct usb_device *grown = grow(list->devices, list->count * sizeof *list->devices,
						new_capacity * sizeof *list->devices);
		if (!grown)
			return -1;
		list->devices = grown;
		*capacity = new_capacity;
	}
	list->devices[list->count++] = *device;
	return 0;
}

static int compare_devices(const struct usb_device *x, const struct usb_device *y)
{
	int order = usb_addr_compare(x->addr, y->addr);
	if (order != 0)
		return order;
	return strcmp(x->name, y->name); /* only a broken sysfs has duplicates; stay deterministic */
}

/*
 * Insertion sort: a wanted list is a device or two, a whole host a few dozen
 * (the 4096 allowed, in reverse order: 17 ms), and qsort would be a kilobyte
 * of a static binary.
 */
static void sort_devices(struct usb_device *devices, size_t count)
{
	for (size_t i = 1; i < count; i++) {
		struct usb_device device = devices[i];
		size_t j = i;
		for (; j > 0 && compare_devices(&devices[j - 1], &device) > 0; j--)
			devices[j] = devices[j - 1];
		devices[j] = device;
	}
}

/*
 * The bus list is read with getdents64 into a buffer on the stack, not
 * through opendir: musl's DIR is a heap block its malloc maps and unmaps
 * for this one listing, which costs a start more than the reads themselves.
 * Through syscall(2): glibc before 2.30 (RHEL 8) has no getdents64().
 * Returns the next entry's name, NULL at the end or on an error (errno set,
 * 0 at the end).
 */
struct linux_dirent64 {           /* what the kernel writes, as getdents64(2) gives it */
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

struct listing {
	int fd;
	size_t at, len;
	_Alignas(struct linux_dirent64) char buf[4096];  /* a page: ~100 entries a call, one page touched */
};

static const char *next_entry(struct listing *l)
{
	if (l->at >= l->len) {
		ssize_t n;
		do
			n = syscall(SYS_getdents64, l->fd, l->buf, sizeof l->buf);
		while (n < 0 && errno == EINTR);
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			return NULL;
		}
		l->at = 0;
		l->len = (size_t)n;
	}
	unsigned short reclen;
	const char *entry = l->buf + l->at;
	memcpy(&reclen, entry + offsetof(struct linux_dirent64, d_reclen), sizeof reclen);
	l->at += reclen;
	return entry + offsetof(struct linux_dirent64, d_name);
}

static int scan_entries(struct listing *l, const char *path, const struct filter *f, struct usb_device_list *list,
			struct error *err)
{
	size_t capacity = 0;
	const char *name;
	struct usb_device device;

	while ((name = next_entry(l))) {
		if (!is_device_entry(name))
			continue;
		if (read_device(l->fd, name, f, &device) < 0)
			continue;
		if (list->count == MAX_DEVICES) {
			error_set(err, "too many USB devices in %s (more than %d)", path, MAX_DEVICES);
			return -1;
		}
		if (append_device(list, &capacity, &device) < 0) {
			error_set(err, "out of memory reading %s", path);
			return -1;
		}
	}
	if (errno != 0) {
		error_set(err, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int scan(const char *root, const struct filter *f, struct usb_device_list *list, struct error *err);

int sysfs_scan(const char *root, struct usb_device_list *list, struct error *err)
{
	const struct filter f = { NULL, 0, NULL, 0, true };
	return scan(root, &f, list, err);
}

int sysfs_scan_ids(const char *root, const struct usb_id *want, size_t nwant, struct usb_device_list *list,
		   struct error *err)
{
	const struct filter f = { want, nwant, NULL, 0, false };
	return scan(root, &f, list, err);
}

int sysfs_scan_addrs(const char *root, const struct usb_addr *addrs, size_t naddrs, struct usb_device_list *list,
		     struct error *err)
{
	static const struct usb_addr none;
	const struct filter f = { NULL, 0, addrs ? addrs : &none, naddrs, false };
	struct usb_device_list found;
	if (scan(root, &f, &found, err) < 0)
		return -1;
	size_t count = list->count;
	struct usb_device *devices = grow(list->devices, count * sizeof *devices,
					  (count + found.count + 1) * sizeof *devices);
	if (!devices) {
		error_set(err, "out of memory reading the USB devices");
		sysfs_free(&found);
		return -1;
	}
	const struct usb_device_list had = { devices, count };
	for (size_t i = 0; i < found.count; i++)
		if (!sysfs_find(&had, found.devices[i].addr))
			devices[count++] = found.devices[i];
	list->devices = devices;
	list->count = count;
	sort_devices(list->devices, list->count);
	sysfs_free(&found);
	return 0;
}

static int scan(const char *root, const struct filter *f, struct usb_device_list *list, struct error *err)
{
	char path[PATH_MAX];

	list->devices = NULL;
	list->count = 0;
	if (root_path(root, SYSFS_USB_DEVICES, path, sizeof path) < 0) {
		error_set(err, "root directory path too long");
		return -1;
	}
	struct listing l; /* not zeroed: a page of its buffer not written is never touched */
	l.at = l.len = 0;
	l.fd = open_path(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (l.fd < 0) {
		error_set(err, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	int status = scan_entries(&l, path, f, list, err);
	if (close(l.fd) != 0 && status == 0) {
		error_set(err, "cannot read %s: %s", path, strerror(errno));
		status = -1;
	}
	if (status < 0) {
		sysfs_free(list);
		return -1;
	}
	sort_devices(list->devices, list->count);
	return 0;
}

int sysfs_read_port(const char *root, const struct usb_port *port, struct usb_device *device, struct error *err)
{
	char path[PATH_MAX], name[sizeof device->name];
	const struct filter every = { NULL, 0, NULL, 0, false };
	struct stat st;

	int n = usb_port_format(port, name, sizeof name);
	if (n < 0 || (size_t)n >= sizeof name || root_path(root, SYSFS_USB_DEVICES, path, sizeof path) < 0) {
		error_set(err, "root directory path too long");
		return -1;
	}
	int dir_fd = open_path(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (dir_fd < 0) {
		error_set(err, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	int status = 0;
	if (fstatat(dir_fd, name, &st, 0) < 0 && (errno == ENOENT || errno == ENOTDIR))
		status = 1;
	else if (read_device(dir_fd, name, &every, device) < 0)
		status = -1;
	if (close(dir_fd) != 0 && status == 0)
		status = -1;
	if (status < 0)
		error_set(err, "%s/%s: not a readable USB device", path, name);
	return status;
}

int sysfs_add(struct usb_device_list *list, const struct usb_device *device)
{
	size_t at = 0;

	while (at < list->count && usb_addr_compare(list->devices[at].addr, device->addr) < 0)
		at++;
	if (at < list->count && usb_addr_compare(list->devices[at].addr, device->addr) == 0)
		return 0;
	if (list->count >= SIZE_MAX / sizeof *list->devices - 1)
		return -1;
	struct usb_device *grown = grow(list->devices, list->count * sizeof *list->devices,
					(list->count + 1) * sizeof *list->devices);
	if (!grown)
		return -1;
	memmove(grown + at + 1, grown + at, (list->count - at) * sizeof *grown);
	grown[at] = *device;
	list->devices = grown;
	list->count++;
	return 0;
}

void sysfs_free(struct usb_device_list *list)
{
	if (!list)
		return;
	free(list->devices);
	list->devices = NULL;
	list->count = 0;
}

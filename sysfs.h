/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_SYSFS_H
#define HOSTUSB_SYSFS_H
/* Host USB devices as the kernel lists them in sysfs; knows nothing of XML. */
#include <stdbool.h>
#include <stddef.h>

#include "text.h"

/* What a device is: idVendor, idProduct. */
struct usb_id {
	unsigned vendor, product;
};

/*
 * Where it is: busnum, devnum, which name its node /dev/bus/usb/BBB/DDD.  The
 * key of a device from the scan to the journal.
 */
struct usb_addr {
	unsigned bus, device;
};

/*
 * Which port it is plugged into: the kernel's port path, the name of its
 * sysfs entry, "1-3.1" = bus 1, port 3 of the root hub, port 1 of the hub
 * there.  A root hub ("usb1") has depth 0.
 */
#define USB_PORT_DEPTH_MAX 7
struct usb_port {
	unsigned bus;
	unsigned depth;
	unsigned char ports[USB_PORT_DEPTH_MAX]; /* each 1..31 */
};

/*
 * A serial number is usable when the property can name it (serial_valid in
 * text.h); any other is kept for display only (select that device by port).
 */
enum usb_serial { USB_SERIAL_NONE, USB_SERIAL_USABLE, USB_SERIAL_UNUSABLE };

struct usb_device {
	struct usb_id id;
	struct usb_addr addr;
	unsigned dev_major, dev_minor; /* dev "189:4" */
	char name[32];                 /* sysfs entry, e.g. "1-3.1" or "usb1" */
	struct usb_port port;          /* from the name; bus 0 when the name is not a port path */
	bool hub;                      /* bDeviceClass 09, or a root hub */
	enum usb_serial serial_kind;
	char serial[SERIAL_MAX + 1]; /* its first bytes, NUL-terminated; "" when NONE */
	bool serial_cut;               /* longer than what serial holds */
	char speed[8];                 /* "480": Mb/s as the kernel prints it; "" when unknown or not read */
};

struct usb_device_list {
	struct usb_device *devices;    /* sorted by addr */
	size_t count;
};

/*
 * Scans <root>/sys/bus/usb/devices ("" or "/" for the real host; trailing '/'
 * on root is ignored).  Interfaces (names with ':') and names starting with
 * '.' are skipped, and so is a device whose attributes are unreadable or
 * malformed.  Returns 0 with *list owning the devices (free with sysfs_free),
 * or -1 with *list empty and a one-line reason in err, naming the full path:
 * "cannot read /tmp/r/sys/bus/usb/devices: No such file or directory",
 * "too many USB devices in <path> (more than 4096)", "out of memory reading <path>".
 */
int sysfs_scan(const char *root, struct usb_device_list *list, char *err, size_t errlen);
/*
 * The same, keeping only devices whose id is one of want[0, nwant).  Of any
 * other device only idProduct is read, and idVendor when the product is a
 * wanted one; its directory is never opened.  The speed is read by
 * sysfs_scan alone (what a listing shows); the other scans and
 * sysfs_read_port leave it "".
 */
int sysfs_scan_ids(const char *root, const struct usb_id *want, size_t nwant, struct usb_device_list *list,
		   char *err, size_t errlen);
/*
 * Adds to *list (a scan's, sorted) the devices at addrs[0, naddrs) (sorted
 * by address) that it lacks.  Of any other device only busnum and devnum are
 * read; its directory is never opened.  0, or -1 with err set and *list
 * unchanged (its array may have moved).
 */
int sysfs_scan_addrs(const char *root, const struct usb_addr *addrs, size_t naddrs, struct usb_device_list *list,
		     char *err, size_t errlen);
void sysfs_free(struct usb_device_list *list); /* leaves *list empty; NULL is fine */
/*
 * The device on port, read from <root>/sys/bus/usb/devices/<port path>
 * alone, without a scan: 0 with *device filled; 1 when nothing is there; -1
 * with err set when the entry is there but not a readable, well-formed device.
 */
int sysfs_read_port(const char *root, const struct usb_port *port, struct usb_device *device, char *err,
		    size_t errlen);
/* Adds device to a sorted list unless a device at its address is there.  0, or -1 (out of memory). */
int sysfs_add(struct usb_device_list *list, const struct usb_device *device);

/* "/dev/bus/usb/BBB/DDD" as seen inside the root; returns what snprintf would. */
int sysfs_node_path(struct usb_addr addr, char *buf, size_t len);

int usb_addr_compare(struct usb_addr a, struct usb_addr b); /* <0, 0, >0: by bus, then device */
bool usb_id_equal(struct usb_id a, struct usb_id b);
bool usb_port_equal(const struct usb_port *a, const struct usb_port *b);
/* The device at addr in a sorted list, or NULL. */
const struct usb_device *sysfs_find(const struct usb_device_list *list, struct usb_addr addr);

/*
 * Attribute parsers, exposed for tests and fuzzing.  Each takes the raw bytes
 * read from the file (not NUL-terminated; exactly one trailing '\n' allowed),
 * returns 0 or -1, and writes its outputs only on success.  Decimal numbers
 * are as the kernel prints them: digits only, no sign, space or leading zero.
 */
int sysfs_parse_id(const char *text, size_t len, unsigned *id);          /* "0627\n": exactly 4 hex digits */
int sysfs_parse_number(const char *text, size_t len, unsigned *number);  /* "5\n": busnum/devnum, 1..999 */
int sysfs_parse_devt(const char *text, size_t len, unsigned *major, unsigned *minor); /* "189:4\n": each part 0..UINT_MAX */
/* An entry's name: "usb1" (a root hub, depth 0) or a port path (usb_port_parse). */
int sysfs_parse_port_name(const char *name, size_t len, struct usb_port *port);
/* serial: the kind, and the bytes kept for display (cut: longer than SERIAL_MAX). Total. */
enum usb_serial sysfs_parse_serial(const char *text, size_t len, char *kept, bool *cut);
/* speed: "1.5\n", "480\n", "5000\n": digits and at most one '.', at most 7 characters. */
int sysfs_parse_speed(const char *text, size_t len, char *speed);


/*
 * Port paths, as the kernel names a device's sysfs entry and as the hostusb
 * property writes them: BUS-PORT[.PORT]..., the bus 1 to 999, 1 to
 * USB_PORT_DEPTH_MAX ports of 1 to 31, no leading zeros.
 *
 * usb_port_scan: how many bytes at text[0, len) begin a port path (len when
 * all of them do); *whole tells whether those bytes are a whole one, and then
 * *port is set.  usb_port_parse: exactly a port path, 0 and *port set, or -1.
 * usb_port_format: "1-3.1", or "usb1" for a root hub (depth 0); returns what
 * snprintf would.  USB_PORT_TEXT_SIZE holds the longest, "999-31.31.31.31.31.31.31".
 */
#define USB_PORT_TEXT_SIZE 32
size_t usb_port_scan(const char *text, size_t len, struct usb_port *port, bool *whole);
int usb_port_parse(const char *text, size_t len, struct usb_port *port);
int usb_port_format(const struct usb_port *port, char *buf, size_t size);

#endif

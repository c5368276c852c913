/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_SYSFS_H
#define HOSTUSB_SYSFS_H
/*
 * Host USB devices as the kernel lists them in sysfs, read into struct
 * usb_device (usb.h); knows nothing of XML.
 */
#include <stdbool.h>
#include <stddef.h>

#include "text.h"
#include "usb.h"

/*
 * Scans <root>/sys/bus/usb/devices ("" or "/" for the real host; trailing '/'
 * on root is ignored).  Interfaces (names with ':') and names starting with
 * '.' are skipped, and so is a device whose attributes are unreadable or
 * malformed.  Returns 0 with *list owning the devices (free with sysfs_free),
 * or -1 with *list empty and a one-line reason in err, naming the full path:
 * "cannot read /tmp/r/sys/bus/usb/devices: No such file or directory",
 * "too many USB devices in <path> (more than 4096)", "out of memory reading <path>".
 */
int sysfs_scan(const char *root, struct usb_device_list *list, struct error *err);
/*
 * The same, keeping only devices whose id is one of want[0, nwant).  Of any
 * other device only idProduct is read, and idVendor when the product is a
 * wanted one; its directory is never opened.  The speed is read by
 * sysfs_scan alone (what a listing shows); the other scans and
 * sysfs_read_port leave it "".
 */
int sysfs_scan_ids(const char *root, const struct usb_id *want, size_t nwant, struct usb_device_list *list,
		   struct error *err);
/*
 * Adds to *list (a scan's, sorted) the devices at addrs[0, naddrs) (sorted
 * by address) that it lacks.  Of any other device only busnum and devnum are
 * read; its directory is never opened.  0, or -1 with err set and *list
 * unchanged (its array may have moved).
 */
int sysfs_scan_addrs(const char *root, const struct usb_addr *addrs, size_t naddrs, struct usb_device_list *list,
		     struct error *err);
void sysfs_free(struct usb_device_list *list); /* leaves *list empty; NULL is fine */
/*
 * The device on port, read from <root>/sys/bus/usb/devices/<port path>
 * alone, without a scan: 0 with *device filled; 1 when nothing is there; -1
 * with err set when the entry is there but not a readable, well-formed device.
 */
int sysfs_read_port(const char *root, const struct usb_port *port, struct usb_device *device, struct error *err);
/* Adds device to a sorted list unless a device at its address is there.  0, or -1 (out of memory). */
int sysfs_add(struct usb_device_list *list, const struct usb_device *device);

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
/* serial: the kind, and the bytes kept for display (cut: longer than SERIAL_MAX). Total. */
enum usb_serial sysfs_parse_serial(const char *text, size_t len, char *kept, bool *cut);
/* speed: "1.5\n", "480\n", "5000\n": digits and at most one '.', at most 7 characters. */
int sysfs_parse_speed(const char *text, size_t len, char *speed);

#endif

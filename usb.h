/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_USB_H
#define HOSTUSB_USB_H
/*
 * What a host USB device is, as plain values: its id, its address, the port
 * it is plugged into and what the sysfs reader found out about it; and the
 * port paths the kernel's sysfs and the hostusb property both write.  No I/O.
 */
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
/* busnum and devnum, and the bus of a port path: 1 to this, as the kernel prints them */
#define MAX_BUS_OR_DEVNUM 999

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

/* "/dev/bus/usb/BBB/DDD" as seen inside the root; returns what snprintf would. */
int sysfs_node_path(struct usb_addr addr, char *buf, size_t len);

int usb_addr_compare(struct usb_addr a, struct usb_addr b); /* <0, 0, >0: by bus, then device */
bool usb_id_equal(struct usb_id a, struct usb_id b);
bool usb_port_equal(const struct usb_port *a, const struct usb_port *b);

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
/*
 * A sysfs entry's name: "usb1" (a root hub, depth 0) or a port path
 * (usb_port_parse).  0 and *port set, or -1.
 */
int sysfs_parse_port_name(const char *name, size_t len, struct usb_port *port);

#endif

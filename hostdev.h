/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_HOSTDEV_H
#define HOSTUSB_HOSTDEV_H
/*
 * The domain's USB hostdev: the <hostdev> element libvirt reads for each
 * device the VM is given, as text xmlpatch.c splices into the domain XML
 * knowing nothing about it; and read back, from the values domread.c finds
 * in a saved domain XML, as libvirt reads them.
 */
#include <stdbool.h>
#include <stddef.h>

#include "text.h"
#include "usb.h"

#define HOSTDEV_SIZE 256
/* The <hostdev> element for a device; with addr (an id more than one device has), its address too. */
void hostdev_text(struct usb_id id, const struct usb_addr *addr, char *buf, size_t size);


/*
 * A <hostdev> of a domain XML read back (a saved one, on resume), field by
 * field: hostdev_fields[f] is where field f is, as "PATH@ATTRIBUTE" below
 * the <hostdev>; text[f] its value as written, NULL when absent.
 */
enum hostdev_field { HOSTDEV_MODE, HOSTDEV_TYPE, HOSTDEV_VENDOR, HOSTDEV_PRODUCT, HOSTDEV_BUS, HOSTDEV_DEVICE,
		     HOSTDEV_FIELDS };
extern const char *const hostdev_fields[HOSTDEV_FIELDS];
struct hostdev_values {
	unsigned long line;                 /* of its start tag */
	const char *text[HOSTDEV_FIELDS];
	bool unreadable[HOSTDEV_FIELDS];    /* present, but not read (an entity in it, or too long) */
};

/* What a USB <hostdev> names, as libvirt reads it. */
struct saved_hostdev {
	unsigned long line;
	bool has_id;               /* <vendor id> and <product id> */
	struct usb_id id;
	bool has_addr;             /* <address bus device> of the source, bus not 0 */
	struct usb_addr addr;
};
/*
 * 1 with *h filled for a USB hostdev (type='usb', mode 'subsystem' or
 * none); 0 for another kind; -1 with err naming the line and field when a
 * USB hostdev's source cannot be read as libvirt would read it (numbers in
 * C notation: 0x hex, 0 octal, else decimal).
 */
int hostdev_read(const struct hostdev_values *v, struct saved_hostdev *h, struct error *err);

#endif

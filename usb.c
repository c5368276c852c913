/* SPDX-License-Identifier: GPL-2.0-or-later */
/* USB devices as values, and port paths; see usb.h. */
#include "usb.h"
#include "format.h"
#include "host.h"
#include "text.h"

#include <string.h>

bool usb_port_equal(const struct usb_port *a, const struct usb_port *b)
{
	return a->bus == b->bus && a->depth == b->depth && memcmp(a->ports, b->ports, a->depth) == 0;
}

int sysfs_node_path(struct usb_addr addr, char *buf, size_t len)
{
	return format(buf, len, NODE_DIR "/%03u/%03u", addr.bus, addr.device);
}

int usb_addr_compare(struct usb_addr a, struct usb_addr b)
{
	if (a.bus != b.bus)
		return a.bus < b.bus ? -1 : 1;
	return a.device < b.device ? -1 : a.device > b.device;
}

bool usb_id_equal(struct usb_id a, struct usb_id b)
{
	return a.vendor == b.vendor && a.product == b.product;
}

/* ---- port paths ---- */

#define USB_PORT_NUMBER_MAX 31

/*
 * The longest run of digits at text[0, len) that begins a number of 1 to max
 * without a leading zero: its length (0 when text does not begin one), its
 * value in *value.
 */
static size_t scan_number(const char *text, size_t len, unsigned max, unsigned *value)
{
	size_t i = 0;
	*value = 0;
	while (i < len && text[i] >= '0' && text[i] <= '9') {
		unsigned digit = (unsigned)(text[i] - '0');
		if ((i == 0 && digit == 0) || *value > (max - digit) / 10)
			break;
		*value = *value * 10 + digit;
		i++;
	}
	return i;
}

size_t usb_port_scan(const char *text, size_t len, struct usb_port *port, bool *whole)
{
	struct usb_port p = { 0 };
	unsigned number;
	*whole = false;
	size_t i = scan_number(text, len, MAX_BUS_OR_DEVNUM, &p.bus);
	if (i == 0 || i == len || text[i] != '-')
		return i;
	for (i++;; i++) {
		size_t n = scan_number(text + i, len - i, USB_PORT_NUMBER_MAX, &number);
		if (n == 0)
			return i;
		p.ports[p.depth++] = (unsigned char)number;
		i += n;
		if (i == len) {
			*port = p;
			*whole = true;
			return i;
		}
		if (text[i] != '.' || p.depth == USB_PORT_DEPTH_MAX)
			return i;
	}
}

int usb_port_parse(const char *text, size_t len, struct usb_port *port)
{
	struct usb_port p;
	bool whole;
	if (usb_port_scan(text, len, &p, &whole) != len || !whole)
		return -1;
	*port = p;
	return 0;
}

int usb_port_format(const struct usb_port *port, char *buf, size_t size)
{
	if (port->depth == 0)
		return format(buf, size, "usb%u", port->bus);
	char text[64]; /* any values: "4294967295-255.255.255.255.255.255.255" */
	int n = format(text, sizeof text, "%u-%u", port->bus, port->ports[0]);
	for (unsigned i = 1; i < port->depth && i < USB_PORT_DEPTH_MAX; i++)
		n += format(text + n, sizeof text - (size_t)n, ".%u", port->ports[i]);
	return format(buf, size, "%s", text);
}

/* ---- sysfs entry names ---- */

/* 1..max, as the kernel prints it */
static int parse_positive(const char *text, size_t len, unsigned max, unsigned *value)
{
	return text_decimal(text, len, max, value) == 0 && *value > 0 ? 0 : -1;
}

int sysfs_parse_port_name(const char *name, size_t len, struct usb_port *port)
{
	struct usb_port p = { 0, 0, { 0 } };

	if (len > 3 && memcmp(name, "usb", 3) == 0) {
		if (parse_positive(name + 3, len - 3, MAX_BUS_OR_DEVNUM, &p.bus) < 0)
			return -1;
		*port = p;
		return 0;
	}
	return usb_port_parse(name, len, port);
}

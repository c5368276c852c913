/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The domain's USB hostdev, written and read back; see hostdev.h. */
#include "hostdev.h"

#include <string.h>

#include "format.h"

void hostdev_text(struct usb_id id, const struct usb_addr *addr, char *buf, size_t size)
{
	char address[64] = "";
	if (addr)
		format(address, sizeof address, "\n    <address bus='%u' device='%u'/>", addr->bus, addr->device);
	format(buf, size,
	       "<hostdev mode='subsystem' type='usb'>\n"
	       "  <source>\n"
	       "    <vendor id='0x%04x'/>\n"
	       "    <product id='0x%04x'/>%s\n"
	       "  </source>\n"
	       "</hostdev>",
	       id.vendor, id.product, address);
}

/* ---- read back ---- */

const char *const hostdev_fields[HOSTDEV_FIELDS] = {
	[HOSTDEV_MODE] = "@mode", [HOSTDEV_TYPE] = "@type",
	[HOSTDEV_VENDOR] = "source/vendor@id", [HOSTDEV_PRODUCT] = "source/product@id",
	[HOSTDEV_BUS] = "source/address@bus", [HOSTDEV_DEVICE] = "source/address@device",
};

/* The value of digit c, 16 when it is none. */
static unsigned digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 16;
}

/* A number as libvirt reads these attributes (strtoul's base 0, nothing around it), at most max: 0 or -1. */
static int number_c_notation(const char *s, unsigned max, unsigned *value)
{
	unsigned base = 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	} else if (s[0] == '0' && s[1]) {
		base = 8;
		s++;
	}
	unsigned long long v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		unsigned d = digit_value(*s);
		if (d >= base || (v = v * base + d) > max)
			return -1;
	}
	*value = (unsigned)v;
	return 0;
}

/* Field f as a number at most max, into *value: 0; 1 when absent; -1 with err set. */
static int hostdev_number(const struct hostdev_values *v, enum hostdev_field f, unsigned max, unsigned *value,
			  struct error *err)
{
	if (!v->text[f] && !v->unreadable[f])
		return 1;
	if (!v->unreadable[f] && number_c_notation(v->text[f], max, value) == 0)
		return 0;
	char shown[48];
	if (v->unreadable[f]) {
		error_set(err, "line %lu: <hostdev> %s: refers to an entity or is too long, not read", v->line,
			  hostdev_fields[f]);
		return -1;
	}
	quote_untrusted(v->text[f], strlen(v->text[f]), shown, sizeof shown);
	error_set(err, "line %lu: <hostdev> %s \"%s\": not a number libvirt reads here", v->line, hostdev_fields[f],
		  shown);
	return -1;
}

int hostdev_read(const struct hostdev_values *v, struct saved_hostdev *h, struct error *err)
{
	const char *mode = v->text[HOSTDEV_MODE], *type = v->text[HOSTDEV_TYPE];
	if (v->unreadable[HOSTDEV_MODE] || v->unreadable[HOSTDEV_TYPE]) {
		error_set(err, "line %lu: <hostdev>: its mode or type refers to an entity or is too long, not read",
			  v->line);
		return -1;
	}
	if (!type || strcmp(type, "usb") != 0 || (mode && strcmp(mode, "subsystem") != 0))
		return 0;
	*h = (struct saved_hostdev){ .line = v->line };
	/* from HOSTDEV_VENDOR on, in the order of the fields */
	unsigned *numbers[] = { &h->id.vendor, &h->id.product, &h->addr.bus, &h->addr.device };
	int absent[4];
	for (size_t k = 0; k < 4; k++) {
		enum hostdev_field f = (enum hostdev_field)(HOSTDEV_VENDOR + (int)k);
		absent[k] = hostdev_number(v, f, f < HOSTDEV_BUS ? 0xffff : MAX_BUS_OR_DEVNUM, numbers[k], err);
		if (absent[k] < 0)
			return -1;
	}
	if (absent[0] != absent[1] || absent[2] != absent[3]) {
		error_set(err, "line %lu: <hostdev>: vendor and product ids, and bus and device numbers, go in pairs",
			  v->line);
		return -1;
	}
	h->has_id = !absent[0];
	h->has_addr = !absent[2] && h->addr.bus != 0;
	return 1;
}

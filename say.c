/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The program's messages on stderr; see say.h. */
#include "say.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "format.h"
#include "host.h"

/*
 * One line on stderr, "hostusb: ...", written with a single write(2).  A
 * message that fits is formatted in place; a longer one is shortened as
 * error_set shortens it.
 */
void say(const char *fmt, ...)
{
	static const char prefix[] = "hostusb: ";
	enum { AT = sizeof prefix - 1 };
	struct error text;
	char line[sizeof text.message + 16];
	va_list ap, again;
	va_start(ap, fmt);
	va_copy(again, ap);
	int n = vformat(line + AT, ERROR_SHOWN + 1, fmt, ap);
	if (n >= 0 && (size_t)n <= ERROR_SHOWN) {
		memcpy(line, prefix, AT);
		line[AT + n] = '\n';
		n += AT + 1;
	} else {
		error_vset(&text, fmt, again);
		n = format(line, sizeof line, "%s%s\n", prefix, text.message);
	}
	va_end(again);
	va_end(ap);
	if (n > 0)
		(void)write_all(STDERR_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

void say_error(const struct error *err)
{
	say("%s", err->message);
}

/*
 * What names the device besides its ids, for "0x0627:0x0001 serial SERK1":
 * its serial, or its port when the property cannot name its serial; *label
 * is " serial ", " port " or "".
 */
static const char *device_name(const struct usb_device *dev, char *port, size_t size, const char **label)
{
	*label = "";
	if (dev->serial_kind == USB_SERIAL_USABLE) {
		*label = " serial ";
		return dev->serial;
	}
	if (dev->port.bus == 0)
		return "";
	*label = " port ";
	usb_port_format(&dev->port, port, size);
	return port;
}

/* "/dev/bus/usb/BBB/DDD (0x0627:0x0001 serial SERK1, bus 1 device 5)", as the lines below begin */
#define NODE_AND_DEVICE NODE_DIR "/%03u/%03u (0x%04x:0x%04x%s%s, bus %u device %u)"

/*
 * The line a start prints for each node it gave the VM, with the owner the
 * journal records to give back (a re-start's: the first start's).  One
 * format for the whole line: it is printed on every start.
 */
void say_given(const char *vmid, const struct usb_device *dev, unsigned uid, unsigned gid,
	       const struct journal_entry *recorded)
{
	char port[USB_PORT_TEXT_SIZE], mode[16] = "";
	const char *label, *name = device_name(dev, port, sizeof port, &label);
	if (recorded->has_mode)
		format(mode, sizeof mode, " mode %04o", recorded->mode);
	say("VM %s: gave " NODE_AND_DEVICE " to %u:%u; recorded owner %u:%u%s", vmid, dev->addr.bus,
	    dev->addr.device, dev->id.vendor, dev->id.product, label, name, dev->addr.bus, dev->addr.device, uid, gid,
	    recorded->uid, recorded->gid, mode);
}

/*
 * The line a destroy or a release prints for each node it gave back; with
 * mode_kept, one that got its owner back but not its mode.
 */
void say_given_back(const char *vmid, const struct usb_device *dev, const struct journal_entry *e, bool mode_kept)
{
	char port[USB_PORT_TEXT_SIZE], mode[64] = "";
	const char *label, *name = device_name(dev, port, sizeof port, &label);
	if (mode_kept)
		format(mode, sizeof mode, "; warning: not to mode %04o: chown cleared a set-id bit", e->mode);
	else if (e->has_mode)
		format(mode, sizeof mode, " mode %04o", e->mode);
	say("VM %s: gave back " NODE_AND_DEVICE " to %u:%u%s", vmid[0] ? vmid : "(no vmId)", e->addr.bus,
	    e->addr.device, dev->id.vendor, dev->id.product, label, name, dev->addr.bus, dev->addr.device, e->uid,
	    e->gid, mode);
}

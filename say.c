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
void say_given(const char *vmid, const struct usb_device *dev, unsigned uid, unsigned gid,
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
void say_given_back(const char *vmid, const struct usb_device *dev, const struct journal_entry *e, bool mode_kept)
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

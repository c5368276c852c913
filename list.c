/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The table `hostusb list` prints; see list.h. */
#include "list.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format.h"
#include "host.h"
#include "journal.h"
#include "node.h"
#include "plan.h"
#include "sysfs.h"

/* The port as list shows it: "?" for an entry whose name is not a port path. */
static void port_cell(const struct usb_device *dev, char *buf, size_t size)
{
	if (dev->port.bus == 0)
		format(buf, size, "?");
	else
		usb_port_format(&dev->port, buf, size);
}

/* The widths of list's columns that vary with the host: port and serial. */
struct list_widths {
	size_t port, serial;
};

#define SERIAL_CELL_SIZE (SERIAL_MAX + 24)

/* The serial as list shows it: "-" for none; one that cannot be selected is quoted and says so. */
static void serial_cell(const struct usb_device *dev, char *buf, size_t size)
{
	if (dev->serial_kind == USB_SERIAL_NONE)
		format(buf, size, "-");
	else if (dev->serial_kind == USB_SERIAL_USABLE)
		format(buf, size, "%s", dev->serial);
	else
		format(buf, size, "\"%s%s\" (by port only)", dev->serial, dev->serial_cut ? "..." : "");
}

/* Appends text to line at *at, padded with spaces to width and one more. */
static void put_cell(char *line, size_t size, size_t *at, const char *text, size_t width)
{
	int n = format(line + *at, size - *at, "%s", text);
	size_t end = *at + (n > 0 ? (size_t)n : 0);
	while (end < *at + width + 1 && end + 1 < size)
		line[end++] = ' ';
	line[end < size ? end : size - 1] = '\0';
	*at = strlen(line);
}

static void list_line(const char *root, const struct usb_device_list *list, const struct usb_device *dev,
		      const struct journal *j, const struct list_widths *w, char *buf, size_t size)
{
	char inside[NODE_PATH_SIZE], node[PATH_SIZE], owner[32] = "-", holder[VMID_MAX + 1] = "-";
	char port[USB_PORT_TEXT_SIZE], id[16], serial[SERIAL_CELL_SIZE], value[128], head[16];
	struct stat st;
	size_t at = 0;
	node_paths(root, dev->addr, inside, node, sizeof node);
	if (lstat(node, &st) == 0)
		format(owner, sizeof owner, "%u:%u", (unsigned)st.st_uid, (unsigned)st.st_gid);
	const struct journal_entry *e = journal_find(j, dev->addr);
	if (e)
		format(holder, sizeof holder, "%s", e->vmid[0] ? e->vmid : "unknown");
	port_cell(dev, port, sizeof port);
	format(head, sizeof head, "%03u %03u", dev->addr.bus, dev->addr.device);
	format(id, sizeof id, "%04x:%04x", dev->id.vendor, dev->id.product);
	serial_cell(dev, serial, sizeof serial);
	plan_property_value(list, dev, value, sizeof value);
	const char *cells[] = { head, port, id, serial, dev->speed[0] ? dev->speed : "-", owner, holder };
	const size_t widths[] = { 7, w->port, 9, w->serial, 5, 11, 36 };
	for (size_t c = 0; c < sizeof cells / sizeof cells[0]; c++)
		put_cell(buf, size, &at, cells[c], widths[c]);
	format(buf + at, size - at, "%s\n", value);
}

static struct list_widths list_widths(const struct usb_device_list *list)
{
	struct list_widths w = { strlen("PORT"), strlen("SERIAL") };
	for (size_t i = 0; i < list->count; i++) {
		char port[USB_PORT_TEXT_SIZE], serial[SERIAL_CELL_SIZE];
		port_cell(&list->devices[i], port, sizeof port);
		serial_cell(&list->devices[i], serial, sizeof serial);
		w.port = strlen(port) > w.port ? strlen(port) : w.port;
		w.serial = strlen(serial) > w.serial ? strlen(serial) : w.serial;
	}
	return w;
}

/* The header, or with --property nothing; then a line per device (--property: per device that is not a hub). */
static int write_list(const char *root, bool property_only, const struct usb_device_list *list,
		      const struct journal *j)
{
	char line[1024];
	struct list_widths w = list_widths(list);
	size_t at = 0;
	const char *titles[] = { "BUS DEV", "PORT", "ID", "SERIAL", "SPEED", "OWNER", "HELD-BY" };
	const size_t widths[] = { 7, w.port, 9, w.serial, 5, 11, 36 };
	for (size_t c = 0; c < sizeof titles / sizeof titles[0]; c++)
		put_cell(line, sizeof line, &at, titles[c], widths[c]);
	format(line + at, sizeof line - at, "PROPERTY\n");
	if (!property_only && write_all(STDOUT_FILENO, line, strlen(line)) < 0)
		return -1;
	for (size_t i = 0; i < list->count; i++) {
		const struct usb_device *dev = &list->devices[i];
		if (!property_only) {
			list_line(root, list, dev, j, &w, line, sizeof line);
		} else {
			char value[128];
			plan_property_value(list, dev, value, sizeof value);
			if (strcmp(value, "-") == 0)
				continue;
			format(line, sizeof line, "%s\n", value);
		}
		if (write_all(STDOUT_FILENO, line, strlen(line)) < 0)
			return -1;
	}
	return 0;
}

/* Why a scan failed, err as the scan set it: when the kernel lists no USB bus at all, that in words. */
static void no_bus(const char *root, struct error *err)
{
	char path[PATH_SIZE];
	struct stat st;
	if (root_path(root, SYSFS_USB_DEVICES, path, sizeof path) == 0 && lstat(path, &st) < 0 &&
	    errno == ENOENT)
		error_set(err, "no USB bus on this host: %s does not exist (no USB controller, or its driver not loaded)",
			  path);
}

int list_devices(const char *root, bool property_only, struct error *err)
{
	struct usb_device_list list = { 0 };
	struct journal j = { 0 };
	if (sysfs_scan(root, &list, err) < 0) {
		no_bus(root, err);
		return -1;
	}
	int rc = journal_read(root, &list, NULL, &j, err);
	errno = 0;
	if (rc == 0 && write_list(root, property_only, &list, &j) < 0) {
		error_set(err, "stdout: %s", strerror(errno));
		rc = -1;
	}
	journal_free(&j);
	sysfs_free(&list);
	return rc < 0 ? -1 : 0;
}

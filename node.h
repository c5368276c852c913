/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_NODE_H
#define HOSTUSB_NODE_H
/*
 * The device nodes <root>/dev/bus/usb/BBB/DDD: opened without following a
 * symlink and checked against what sysfs says, given to a VM's user and
 * given back (directly, or through sudo when not root).  Each function takes
 * the --root prefix; sudo is never used under one.  Errors name the node.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "text.h"
#include "usb.h"

/*
 * The directory <root>/dev/bus/usb/BBB of the last node open_node walked to,
 * kept (O_PATH) so that another node on that bus is one openat away.
 */
struct node_walk {
	unsigned bus;
	int dir_fd;   /* -1: none */
};

/* The node of the device at addr, inside the root (NODE_PATH_SIZE) and on the host. */
void node_paths(const char *root, struct usb_addr addr, char *inside, char *host, size_t host_size);
void node_walk_end(struct node_walk *walk);
/*
 * The device's node, checked: an O_PATH descriptor, or -1 with err set; with
 * missing_ok, -2 when it does not exist.  walk (or NULL) keeps its bus directory.
 */
int open_node(const char *root, const struct usb_device *dev, struct stat *st, bool missing_ok, struct node_walk *walk,
	      struct error *err);
/* Gives the node open as fd to uid:gid.  0, or -1 with err set. */
int chown_node(const char *root, int fd, struct usb_addr addr, unsigned uid, unsigned gid, struct error *err);
/*
 * Gives the node open as fd back to uid:gid and, with has_mode, to mode.
 * 0 (*mode_kept: a set-id bit could not be set again, a warning in err), or
 * -1 with err set.
 */
int give_back(const char *root, int fd, struct usb_addr addr, unsigned uid, unsigned gid, bool has_mode, unsigned mode,
	      bool *mode_kept, struct error *err);
/* Whether the node's path still names the inode open as fd; err says why not. */
bool node_still_in_place(const char *root, struct usb_addr addr, int fd, struct error *err);
/* True when the root has no NODE_DIR at all (a dry run's root without device nodes). */
bool without_nodes(const char *root);
/* What err says after "PATH: ", or all of it when it does not begin so. */
const char *reason_of(const struct error *err, const char *path);

#endif

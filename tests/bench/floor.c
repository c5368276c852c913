/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * floor: the least a VM start can do, the yardstick `make bench` sets hostusb
 * against.  Built by the Makefile's rule for hostusb (same compiler, flags,
 * static linking), it does a start's I/O and nothing else: no parsing, no
 * checks beyond the calls' results, no messages.
 *
 *   floor ROOT DOMAIN TEXT JOURNAL [ENTRY NODE]...
 *
 *   - lists ROOT/sys/bus/usb/devices and reads idProduct and idVendor of every
 *     device there (entries without ':'), and of each ENTRY (e.g. "1-3") the
 *     rest of what hostusb reads of a device it claims: busnum, devnum, dev,
 *     serial (may be missing), bDeviceClass
 *   - replaces the journal ROOT/var/run/vdsm/hooks/hostusb-permissions with
 *     JOURNAL: O_TMPFILE, write, fsync, link, rename, fsync of its directory
 *   - chowns each NODE (e.g. "dev/bus/usb/001/003", under ROOT) to 107:107
 *   - replaces DOMAIN with its text with TEXT inserted before the last
 *     "</devices>": O_TMPFILE beside it, write, link, rename
 *
 * Exit 0, or 2 when a call fails.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define QEMU_ID 107

static void fail(void)
{
	exit(2);
}

static void read_attribute(int dir_fd, const char *entry, const char *name, int may_be_missing)
{
	char path[512], buf[512];
	if (snprintf(path, sizeof path, "%s/%s", entry, name) >= (int)sizeof path)
		fail();
	int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (may_be_missing)
			return;
		fail();
	}
	if (read(fd, buf, sizeof buf) < 0 || close(fd) != 0)
		fail();
}

static void read_sysfs(const char *root, char **claims, int nclaims)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s/sys/bus/usb/devices", root) >= (int)sizeof path)
		fail();
	DIR *dir = opendir(path);
	if (!dir)
		fail();
	struct dirent *entry;
	while ((entry = readdir(dir)))
		if (entry->d_name[0] != '.' && !strchr(entry->d_name, ':')) {
			read_attribute(dirfd(dir), entry->d_name, "idProduct", 0);
			read_attribute(dirfd(dir), entry->d_name, "idVendor", 0);
		}
	static const char *const claimed[] = {"busnum", "devnum", "dev", "serial", "bDeviceClass"};
	for (int i = 0; i < nclaims; i += 2)
		for (size_t k = 0; k < sizeof claimed / sizeof *claimed; k++)
			read_attribute(dirfd(dir), claims[i], claimed[k], k == 3);
	if (closedir(dir) != 0)
		fail();
}

static void write_all(int fd, const char *text, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, text, len);
		if (n <= 0)
			fail();
		text += n;
		len -= (size_t)n;
	}
}

/* dir/name replaced by an O_TMPFILE file holding parts[0, nparts). */
static void replace(const char *dir, const char *name, const char *const *parts, const size_t *lens, int nparts,
		    int durable)
{
	char link_path[4096], path[4096];
	if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path ||
	    snprintf(link_path, sizeof link_path, "%s/%s.floor-update", dir, name) >= (int)sizeof link_path)
		fail();
	int fd = open(dir, O_RDWR | O_TMPFILE | O_CLOEXEC, 0644);
	if (fd < 0)
		fail();
	for (int i = 0; i < nparts; i++)
		write_all(fd, parts[i], lens[i]);
	if (durable && fsync(fd) != 0)
		fail();
	if (linkat(fd, "", AT_FDCWD, link_path, AT_EMPTY_PATH) != 0 || close(fd) != 0 || rename(link_path, path) != 0)
		fail();
	if (durable) {
		int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dir_fd < 0 || fsync(dir_fd) != 0 || close(dir_fd) != 0)
			fail();
	}
}

static void replace_domain(const char *domain, const char *text)
{
	int fd = open(domain, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0)
		fail();
	size_t size = (size_t)st.st_size;
	char *xml = malloc(size + 1);
	if (!xml || read(fd, xml, size) != (ssize_t)size || close(fd) != 0)
		fail();
	xml[size] = '\0';
	static const char close_tag[] = "</devices>";
	char *at = NULL;
	for (char *p = xml; (p = strstr(p, close_tag)); p++)
		at = p;
	if (!at)
		fail();
	char dir[4096];
	const char *slash = strrchr(domain, '/');
	if (!slash || (size_t)(slash - domain) >= sizeof dir)
		fail();
	memcpy(dir, domain, (size_t)(slash - domain));
	dir[slash - domain] = '\0';
	const char *parts[] = {xml, text, at};
	size_t lens[] = {(size_t)(at - xml), strlen(text), size - (size_t)(at - xml)};
	replace(dir, slash + 1, parts, lens, 3, 0);
	free(xml);
}

int main(int argc, char **argv)
{
	if (argc < 5 || (argc - 5) % 2 != 0)
		fail();
	const char *root = argv[1];
	read_sysfs(root, argv + 5, argc - 5);

	char dir[4096];
	if (snprintf(dir, sizeof dir, "%s/var/run/vdsm/hooks", root) >= (int)sizeof dir)
		fail();
	const char *journal[] = {argv[4]};
	size_t journal_len[] = {strlen(argv[4])};
	replace(dir, "hostusb-permissions", journal, journal_len, 1, 1);

	for (int i = 6; i < argc; i += 2) {
		char node[4096];
		if (snprintf(node, sizeof node, "%s/%s", root, argv[i]) >= (int)sizeof node ||
		    chown(node, QEMU_ID, QEMU_ID) != 0)
			fail();
	}
	replace_domain(argv[2], argv[3]);
	return 0;
}

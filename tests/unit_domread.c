/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for domread.c, the values read out of a domain XML: each
 * document is read twice, from a regular file and one byte at a time, so
 * that every name and value straddles a read.
 */
#include "domread.h"
#include "check.h"

#include <stdlib.h>
#include <unistd.h>

static const char *const fields[] = { "@type", "source/vendor@id", "source/address@bus", "@mode" };
enum { TYPE, VENDOR, BUS, MODE, NFIELDS };

static ssize_t one_byte(int fd, void *buf, size_t count)
{
	return read(fd, buf, count ? 1 : 0);
}

static int document(const char *text)
{
	char path[] = "/tmp/unit_domread.XXXXXX";
	int fd = mkstemp(path);
	size_t len = strlen(text);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) != 0) {
		perror("document");
		exit(2);
	}
	unlink(path);
	return fd;
}

static struct domread_result result;
static struct xmlpatch_error err;

/* Reads text both ways; the byte-at-a-time result must be the same as the other. */
static int read_doc(const char *name, const char *text)
{
	struct domread_result slow;
	struct xmlpatch_error slow_err;
	int fd = document(text);
	const struct xmlpatch_input fast_in = { .fd = fd }, slow_in = { .fd = fd, .read = one_byte };
	domread_free(&result);
	int rc = domread_children(&fast_in, "hostdev", fields, NFIELDS, &result, &err);
	lseek(fd, 0, SEEK_SET);
	int slow_rc = domread_children(&slow_in, "hostdev", fields, NFIELDS, &slow, &slow_err);
	close(fd);
	bool same = rc == slow_rc && (rc < 0 ? strcmp(err.message, slow_err.message) == 0
				      : slow.count == result.count &&
					(!slow.count || memcmp(slow.elements, result.elements,
							       slow.count * sizeof *slow.elements) == 0));
	char check_name[160];
	snprintf(check_name, sizeof check_name, "%s: the same read one byte at a time", name);
	CHECK(check_name, same);
	domread_free(&slow);
	return rc;
}

static const char *value(size_t element, int field)
{
	if (element >= result.count)
		return "(no such element)";
	const struct domread_value *v = &result.elements[element].values[field];
	return v->unreadable ? "(unreadable)" : v->present ? v->value : "(absent)";
}

static void check_libvirt_hostdev(void)
{
	int rc = read_doc("libvirt's hostdev", "<?xml version='1.0'?>\n<domain type='kvm'>\n  <name>vm</name>\n"
		"  <devices>\n"
		"    <disk type='file'><source file='/x'/><address type='drive' bus='0'/></disk>\n"
		"    <hostdev mode='subsystem' type='usb' managed='no'>\n"
		"      <source startupPolicy='optional'>\n"
		"        <vendor id='0x0529'/>\n        <product id='0x0001'/>\n"
		"        <address bus='1' device='3'/>\n"
		"      </source>\n"
		"      <alias name='hostdev0'/>\n"
		"      <address type='usb' bus='0' port='1'/>\n"
		"    </hostdev>\n"
		"    <hostdev mode='subsystem' type='pci'><source><address domain='0' bus='7'/></source></hostdev>\n"
		"  </devices>\n</domain>\n");
	CHECK("libvirt's hostdev: read", rc == 0 && result.count == 2);
	CHECK_STR("libvirt's hostdev: its type", value(0, TYPE), "usb");
	CHECK_STR("libvirt's hostdev: its mode", value(0, MODE), "subsystem");
	CHECK_STR("libvirt's hostdev: the vendor of its source", value(0, VENDOR), "0x0529");
	CHECK_STR("libvirt's hostdev: the bus of its source, not of the guest's address", value(0, BUS), "1");
	CHECK("libvirt's hostdev: the line of its start tag", result.count && result.elements[0].line == 6);
	CHECK_STR("a PCI hostdev: read too, its own fields", value(1, TYPE), "pci");
	CHECK_STR("a PCI hostdev: a field it lacks is absent", value(1, VENDOR), "(absent)");
	CHECK_STR("a PCI hostdev: its source address's bus", value(1, BUS), "7");
}

static void check_where(void)
{
	int rc = read_doc("where", "<domain><metadata><hostdev type='meta'/></metadata>"
		"<devices><controller><hostdev type='nested'/></controller><hostdev type='a'/></devices>"
		"<hostdev type='outside'/><devices><hostdev type='b'/></devices></domain>");
	CHECK("where: only children of <devices>, of every <devices>", rc == 0 && result.count == 2);
	CHECK_STR("where: the first <devices>'", value(0, TYPE), "a");
	CHECK_STR("where: the second <devices>'", value(1, TYPE), "b");
	rc = read_doc("none", "<domain><devices/></domain>");
	CHECK("none: no element, no error", rc == 0 && result.count == 0 && result.elements == NULL);
}

/* Lines counted right across the window's refills: hostdevs among 6,000 lines of 40 bytes (240 KB). */
static void check_lines(void)
{
	size_t size = 6000 * 48 + 256, len = 0;
	char *doc = malloc(size);
	if (!doc)
		return;
	len += (size_t)snprintf(doc, size, "<domain>\n<devices>\n");
	for (int i = 3; i <= 6000; i++)
		len += (size_t)snprintf(doc + len, size - len, i % 1500 == 0 ? "<hostdev type='%06d'/>\n"
									: "<disk type='file'><source f='%06d'/></disk>\n", i);
	snprintf(doc + len, size - len, "</devices>\n</domain>\n");
	int rc = read_doc("lines", doc);
	CHECK("lines: every hostdev read", rc == 0 && result.count == 4);
	CHECK("lines: each on its own line, far into the document",
	      result.count == 4 && result.elements[0].line == 1500 && result.elements[1].line == 3000 &&
	      result.elements[2].line == 4500 && result.elements[3].line == 6000);
	CHECK_STR("lines: the value of the last", value(3, TYPE), "006000");
	free(doc);
}

static void check_first_wins(void)
{
	int rc = read_doc("two vendors", "<domain><devices><hostdev><source><vendor/><vendor id='2'/>"
		"</source><source><vendor id='3'/></source></hostdev></devices></domain>");
	CHECK_STR("two vendors: the first element at the path counts, as libvirt's XPath", rc == 0 ? value(0, VENDOR) : "",
		  "(absent)");
	rc = read_doc("deeper", "<domain><devices><hostdev><source><x><vendor id='9'/></x>"
		"<vendor id='4'/></source></hostdev></devices></domain>");
	CHECK_STR("deeper: an element of the same name lower down is not at the path", rc == 0 ? value(0, VENDOR) : "",
		  "4");
}

static void check_values(void)
{
	char doc[512];
	snprintf(doc, sizeof doc, "<domain><devices><hostdev type=\"u&amp;sb\" mode='%064d'>"
		 "<source><vendor id='%064d'/><address bus=''/></source></hostdev></devices></domain>", 7, 8);
	int rc = read_doc("values", doc);
	CHECK_STR("values: a predefined entity is replaced", rc == 0 ? value(0, TYPE) : "", "u&sb");
	CHECK_STR("values: 64 bytes are read", value(0, VENDOR), "0000000000000000000000000000000000000000000000000000000000000008");
	CHECK_STR("values: an empty value is present", value(0, BUS), "");
	snprintf(doc, sizeof doc, "<domain><devices><hostdev><source><vendor id='%065d'/></source></hostdev>"
		 "</devices></domain>", 8);
	rc = read_doc("a long value", doc);
	CHECK_STR("values: 65 bytes are too long", rc == 0 ? value(0, VENDOR) : "", "(unreadable)");
	rc = read_doc("references", "<domain><devices><hostdev type='&#117;&#x73;b'><source>"
		      "<vendor id='0x05&#50;9'/><address bus='&#x31;'/></source></hostdev></devices></domain>");
	CHECK_STR("references: character references are replaced", rc == 0 ? value(0, TYPE) : "", "usb");
	CHECK_STR("references: inside a value", value(0, VENDOR), "0x0529");
	CHECK_STR("references: a value of one reference", value(0, BUS), "1");
	rc = read_doc("a declared entity", "<!DOCTYPE domain [<!ENTITY u \"usb\">]>\n<domain><devices>"
		      "<hostdev type='&u;' mode='subsystem'/></devices></domain>");
	CHECK_STR("a declared entity: its text is not kept, the value is unreadable", rc == 0 ? value(0, TYPE) : "",
		  "(unreadable)");
	CHECK_STR("a declared entity: the other values are read", value(0, MODE), "subsystem");
	CHECK("a declared entity: the line counts the DOCTYPE's", result.count == 1 && result.elements[0].line == 2);
}

static void check_refusals(void)
{
	int rc = read_doc("not a domain", "<domainx><devices><hostdev/></devices></domainx>");
	CHECK("not a domain: refused", rc < 0 && err.kind == XMLPATCH_NOT_DOMAIN);
	rc = read_doc("malformed", "<domain>\n<devices>\n<hostdev type='usb'>\n</devices></domain>");
	CHECK("malformed: refused, with its line", rc < 0 && err.kind == XMLPATCH_MALFORMED && err.line == 4);
	rc = read_doc("cut", "<domain><devices><hostdev type='us");
	CHECK("cut short in a value: refused", rc < 0 && err.kind == XMLPATCH_MALFORMED);
	rc = read_doc("undefined entity", "<domain><devices><hostdev type='&foo;'/></devices></domain>");
	CHECK("an undefined entity in a value: refused as the patcher refuses it", rc < 0 && err.kind == XMLPATCH_MALFORMED);

	size_t n = DOMREAD_ELEMENTS_MAX + 1, len = 0;
	char *many = malloc(64 + n * 10);
	if (!many)
		return;
	len += (size_t)sprintf(many, "<domain><devices>");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(many + len, "<hostdev/>");
	sprintf(many + len, "</devices></domain>");
	int fd = document(many);
	const struct xmlpatch_input in = { .fd = fd };
	rc = domread_children(&in, "hostdev", fields, NFIELDS, &result, &err);
	CHECK("more than DOMREAD_ELEMENTS_MAX: refused as a limit", rc < 0 && err.kind == XMLPATCH_LIMIT);
	CHECK("refused: nothing left to free", result.count == 0 && result.elements == NULL);
	close(fd);
	free(many);
}

int main(void)
{
	check_libvirt_hostdev();
	check_where();
	check_lines();
	check_first_wins();
	check_values();
	check_refusals();
	domread_free(&result);
	return check_status();
}

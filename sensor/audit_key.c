/*
 * audit_key.c - the Ed25519 key pair that signs the audit log's tree heads
 * (RFC 8032 through OpenSSL's EVP_PKEY; PEM files: PKCS#8 private key,
 * SubjectPublicKeyInfo public key). A private key any other user could read
 * or change is refused: whoever can read it can forge heads.
 */
#include "audit_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

struct audit_key {
	EVP_PKEY *pkey;
	uint8_t pub[32];
	uint8_t id[8];
};

static struct audit_key *wrap(EVP_PKEY *pkey, const char *path, char *err, size_t errlen)
{
	struct audit_key *k = NULL;
	size_t n = sizeof k->pub;
	if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
		audit_msg(err, errlen, "%s: not an Ed25519 key (make one with `tapir audit keygen`)",
			  path);
		goto fail;
	}
	k = calloc(1, sizeof *k);
	if (!k) {
		audit_msg(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	uint8_t digest[32];
	unsigned dlen = 0;
	if (EVP_PKEY_get_raw_public_key(pkey, k->pub, &n) != 1 || n != 32 ||
	    EVP_Digest(k->pub, 32, digest, &dlen, EVP_sha256(), NULL) != 1) {
		audit_msg(err, errlen, "%s: cannot read the public key", path);
		goto fail;
	}
	memcpy(k->id, digest, sizeof k->id);
	k->pkey = pkey;
	return k;
fail:
	free(k);
	EVP_PKEY_free(pkey);
	return NULL;
}

struct audit_key *audit_key_load_private(const char *path, int *status, char *err, size_t errlen)
{
	*status = 2;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		audit_msg(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		audit_msg(err, errlen, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if (st.st_mode & 077) {
		audit_msg(err, errlen,
			  "%s: private key is accessible by group or others (mode %04o): "
			  "chmod 600 %s",
			  path, (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return NULL;
	}
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		*status = 1;
		audit_msg(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	EVP_PKEY *pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	if (!pkey) {
		audit_msg(err, errlen, "%s: not a PEM private key", path);
		return NULL;
	}
	return wrap(pkey, path, err, errlen);
}

static struct audit_key *load_public_fp(FILE *f, const char *path, char *err, size_t errlen)
{
	EVP_PKEY *pkey = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	if (!pkey) {
		rewind(f);
		pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	}
	ERR_clear_error();
	if (!pkey) {
		audit_msg(err, errlen, "%s: not a PEM public key", path);
		return NULL;
	}
	return wrap(pkey, path, err, errlen);
}

struct audit_key *audit_key_load_public(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		audit_msg(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	struct audit_key *k = load_public_fp(f, path, err, errlen);
	fclose(f);
	return k;
}

struct audit_key *audit_key_load_public_at(int dirfd, const char *name, char *err, size_t errlen)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		audit_msg(err, errlen, "%s: cannot open: %s", name, strerror(errno));
		return NULL;
	}
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		audit_msg(err, errlen, "%s: %s", name, strerror(errno));
		return NULL;
	}
	struct audit_key *k = load_public_fp(f, name, err, errlen);
	fclose(f);
	return k;
}

void audit_key_free(struct audit_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

void audit_key_id(const struct audit_key *k, uint8_t id[8])
{
	memcpy(id, k->id, 8);
}

bool audit_key_same(const struct audit_key *a, const struct audit_key *b)
{
	return memcmp(a->pub, b->pub, sizeof a->pub) == 0;
}

int audit_key_write_public_at(const struct audit_key *k, int dirfd, const char *name, char *err,
			      size_t errlen)
{
	char tmp[256];
	snprintf(tmp, sizeof tmp, "%s.tmp", name);
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		audit_msg(err, errlen, "%s: cannot write: %s", name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int ok = PEM_write_PUBKEY(f, k->pkey) == 1;
	ok = (fflush(f) == 0 && fsync(fileno(f)) == 0) && ok;
	ok = (fclose(f) == 0) && ok;
	if (!ok || renameat(dirfd, tmp, dirfd, name) != 0) {
		audit_msg(err, errlen, "%s: cannot write: %s", name, strerror(errno));
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	return 0;
}

int audit_key_sign(const struct audit_key *k, const uint8_t *msg, size_t n, uint8_t sig[64])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t len = 64;
	int ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
		 EVP_DigestSign(ctx, sig, &len, msg, n) == 1 && len == 64;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok ? 0 : -1;
}

bool audit_key_verify(const struct audit_key *k, const uint8_t *msg, size_t n,
		      const uint8_t sig[64])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
		  EVP_DigestVerify(ctx, sig, 64, msg, n) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

/* Creates path exclusively with mode and writes one PEM with fn. */
static int write_new_pem(const char *path, mode_t mode, EVP_PKEY *pkey, bool private_key,
			 char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		audit_msg(err, errlen, "%s: %s", path,
			  errno == EEXIST ? "exists (not overwritten)" : strerror(errno));
		return errno == EEXIST ? 2 : 1;
	}
	FILE *f = fchmod(fd, mode) == 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		audit_msg(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return 1;
	}
	int ok = private_key ? PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) == 1
			     : PEM_write_PUBKEY(f, pkey) == 1;
	ok = (fflush(f) == 0 && fsync(fileno(f)) == 0) && ok;
	ok = (fclose(f) == 0) && ok;
	ERR_clear_error();
	if (!ok) {
		audit_msg(err, errlen, "%s: cannot write", path);
		unlink(path);
		return 1;
	}
	return 0;
}

int audit_keygen(const char *path, char *err, size_t errlen)
{
	char pub[4096];
	if (strlen(path) + 5 > sizeof pub) {
		audit_msg(err, errlen, "%s: path too long", path);
		return 2;
	}
	snprintf(pub, sizeof pub, "%s.pub", path);
	if (access(pub, F_OK) == 0) {
		audit_msg(err, errlen, "%s: exists (not overwritten)", pub);
		return 2;
	}
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!pkey) {
		ERR_clear_error();
		audit_msg(err, errlen, "cannot generate an Ed25519 key");
		return 1;
	}
	int rc = write_new_pem(path, 0600, pkey, true, err, errlen);
	if (rc == 0) {
		rc = write_new_pem(pub, 0644, pkey, false, err, errlen);
		if (rc != 0)
			unlink(path);
	}
	EVP_PKEY_free(pkey);
	return rc;
}

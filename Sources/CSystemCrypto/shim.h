// System cryptography used by the kernel: OpenSSL's libcrypto (SHA-256, HMAC, random bytes)
// and libxcrypt (bcrypt password hashes, "$2b$"). Both are Debian packages.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/rand.h>
#include <crypt.h>

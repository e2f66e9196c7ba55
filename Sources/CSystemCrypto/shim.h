// bcrypt password hashes ("$2b$") for the kernel, from libxcrypt (a Debian package).
#include <crypt.h>

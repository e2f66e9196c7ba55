// The voice plugin's speech libraries, all Debian packages: espeak-ng (libespeak-ng-dev) for
// base speech, Rubber Band (librubberband-dev) for formant-preserving pitch shifts, and
// libsndfile (libsndfile1-dev) to write FLAC.
#include <espeak-ng/speak_lib.h>
#include <rubberband/rubberband-c.h>
#include <sndfile.h>

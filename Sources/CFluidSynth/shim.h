// libfluidsynth (Debian: libfluidsynth-dev), the General MIDI synthesiser the procedural
// engine renders with.
#include <fluidsynth.h>

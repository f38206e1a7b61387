/* Header-only target; this file gives SwiftPM something to compile. */
#include "CPrefetch.h"

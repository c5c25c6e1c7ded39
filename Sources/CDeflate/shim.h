#ifndef CONTINUITY_CDEFLATE_SHIM_H
#define CONTINUITY_CDEFLATE_SHIM_H
#include <libdeflate.h>
#endif

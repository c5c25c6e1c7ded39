#ifndef CONTINUITY_CZSTD_SHIM_H
#define CONTINUITY_CZSTD_SHIM_H
#include <zstd.h>
#endif

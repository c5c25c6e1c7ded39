#ifndef CONTINUITY_CLIBPQ_SHIM_H
#define CONTINUITY_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif

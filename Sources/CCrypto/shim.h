#ifndef CONTINUITY_CCRYPTO_SHIM_H
#define CONTINUITY_CCRYPTO_SHIM_H
#include <openssl/evp.h>
#include <openssl/hmac.h>
#endif

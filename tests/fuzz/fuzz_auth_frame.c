// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fuzz_auth_frame.c - libFuzzer target: test packets of authenticated and
 * encrypted sessions on the AF_XDP path (user/auth_reflect.c).
 *
 * Octet 0 picks the mode (bit 0: authenticated / encrypted) and bit 1
 * whether the payload is sealed with the session's keys first (so that the
 * HMAC verifies and the reply is built); the rest is either a whole frame
 * (auth_frame_parse + auth_frame_reflect, then the reply must parse again:
 * lengths and checksums right) or a bare payload (auth_reflect_build +
 * auth_reflect_seal).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth_reflect.h"
#include "xtwamp_wire.h"
#include "twamp_crypto.h"

#define CAP 4096

static __u64 fixed_t3(void)
{
	return 1700000000ULL * 1000000000ULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static __u8 buf[CAP];
	struct tw_test_keys keys;
	struct auth_reflect_rx rx = {
		.reflector_seq = 7,
		.t2_realtime_ns = 1700000000ULL * 1000000000ULL,
		.error_estimate = 0x8001,
		.sender_ttl = 255,
	};
	struct auth_frame fr, fr2;
	__u32 mode;
	size_t out_len = 0;
	bool seal;
	int ret;

	if (size < 1 || size > CAP / 2)
		return 0;
	mode = (data[0] & 1) ? XT_MODE_ENCRYPTED : XT_MODE_AUTHENTICATED;
	seal = data[0] & 2;
	memset(keys.aes, 0x44, sizeof(keys.aes));
	memset(keys.hmac, 0x55, sizeof(keys.hmac));
	data++;
	size--;

	/* A whole frame. */
	memcpy(buf, data, size);
	if (auth_frame_parse(buf, size, &fr) == 0) {
		ret = auth_frame_reflect(buf, CAP, &fr, mode, &keys, &rx, 46, fixed_t3, &out_len);
		if (ret == 0) {
			if (out_len > CAP || auth_frame_parse(buf, out_len, &fr2) != 0)
				abort(); /* a reply we built must be a valid frame */
		}
	}

	/* A bare payload, sealed by the "sender" when asked. */
	memcpy(buf, data, size);
	if (seal && size >= AUTH_SENDER_HDR_LEN &&
	    tw_test_seal_sender(mode, &keys, buf, AUTH_SENDER_HDR_LEN))
		abort();
	ret = auth_reflect_build(mode, &keys, buf, size, &rx, buf + CAP / 2, CAP / 2, &out_len);
	if (ret == 0) {
		if (out_len != auth_reflect_reply_len(size))
			abort();
		if (auth_reflect_seal(mode, &keys, buf + CAP / 2, out_len, fixed_t3, NULL))
			abort();
		if (tw_test_open_reflector(mode, &keys, buf + CAP / 2, out_len))
			abort(); /* what we sealed must open */
	} else if (seal && size >= AUTH_SENDER_HDR_LEN) {
		abort(); /* a correctly sealed request must be answered */
	}
	return 0;
}

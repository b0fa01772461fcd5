// What a failed Basic authentication answers, wherever a password is taken (the STS and key
// management, SPEC sections 5 and 8; basic-auth resources at the gateway): one mapping of
// UserStore::authenticate's outcome. Never echoes a credential or the internal reason.
#pragma once

#include "auth/user_store.h"
#include "common/refusal.h"

namespace mgw::auth {

// The refusal for a failed authentication (outcome.failure != kNone): 401 with a description of
// what to send (the Basic challenge is the answer's), or 429 with Retry-After after too many
// failures.
Refusal loginRefusal(const AuthOutcome& outcome);

}  // namespace mgw::auth

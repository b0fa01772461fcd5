// The subscription tier a key gets (SPEC section 13), signed (the "tier" claim) or opaque
// (POST /apikeys "tier"): the rule the STS and the key lifecycle share. Trusts the configuration
// and the loaded policies; the tier asked for is client input.
#pragma once

#include <string>

#include "config/config.h"
#include "throttle/policy.h"

namespace mgw::sts {

// "Bronze, Gold, ..." : the names of the policies of one level, for a client's description.
std::string policyNames(const throttle::PolicySet& policies, throttle::PolicyLevel level);

// The user's [b7a.users.<name>] tier (default Unlimited), or the tier asked for when it is a
// subscription policy with a rate no higher than the user's. "" with *error set (the client's
// description) when the request asks for an unknown or a higher tier.
std::string subscriptionTierFor(const config::Config& config, const throttle::PolicySet& policies,
                                const std::string& user, const std::string& asked,
                                std::string* error);

}  // namespace mgw::sts

#include "lifecycle/ownership.h"

#include <gtest/gtest.h>

namespace mgw::lifecycle {
namespace {

TEST(OwnershipTest, OwnersAndAdminsOnly) {
  EXPECT_EQ(checkOwner({"alice", false}, "alice"), Failure::kNone);
  EXPECT_EQ(checkOwner({"alice", false}, "bob"), Failure::kForbidden);
  EXPECT_EQ(checkOwner({"alice", false}, "Alice"), Failure::kForbidden);  // names are exact
  EXPECT_EQ(checkOwner({"alice", false}, ""), Failure::kForbidden);
  EXPECT_EQ(checkOwner({"root", true}, "bob"), Failure::kNone);
}

}  // namespace
}  // namespace mgw::lifecycle

// The kernel's rtnetlink names (message types, flags, attribute types, header structs),
// so the netlink code says RTM_GETRULE and FRA_PRIORITY instead of 34 and 6.
#ifndef EC2NETGEN_CNETLINK_SHIM_H
#define EC2NETGEN_CNETLINK_SHIM_H

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/nexthop.h>

// NLM_F_DUMP is (NLM_F_ROOT|NLM_F_MATCH); a plain constant imports reliably.
static const unsigned short ec2netgen_nlm_f_dump = NLM_F_DUMP;
// NLA_TYPE_MASK is ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER), which Swift does not import.
static const unsigned short ec2netgen_nla_type_mask = NLA_TYPE_MASK;

#endif

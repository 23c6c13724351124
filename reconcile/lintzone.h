/*
 * lintzone.h - lint a whole zone file: group its records by owner, inspect each owner
 * (inspect.h), then the zone-wide rules (SE-01: Easy DKIM wants all three CNAMEs).
 */
#ifndef ZW_LINTZONE_H
#define ZW_LINTZONE_H

#include "reconcile/finding.h"
#include "reconcile/zonefile.h"

int zw_lint_zone(struct zw_findings *fs, const struct zw_zone *z, struct zw_error *err);

#endif

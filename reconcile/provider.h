/*
 * provider.h (engine side) - the provider registry and the wrappers the engine calls.
 *
 * The registry holds the compiled-in providers and those loaded from --plugin-dir
 * (dlopen; ABI version, name and duplicates checked, the library closed on every failure
 * path). A connection is one opened provider for one Provider manifest: its settings are
 * checked against the provider's option table first (unknown key, type, bounds,
 * required). The wrappers turn an empty slot into ZW_EUNSUPPORTED and the provider's
 * callbacks into engine structs (zone state, name server lists).
 */
#ifndef ZW_ENGINE_PROVIDER_H
#define ZW_ENGINE_PROVIDER_H

#include "providers/provider.h"
#include "reconcile/manifest.h"
#include "reconcile/plan.h"
#include "reconcile/zonestate.h"

struct zw_registry;
struct zw_conn;

int zw_registry_new(struct zw_registry **out, struct zw_error *err);
/* Load every *.so in dir. A bad plugin is ZW_EINVAL with a one-line reason naming it. */
int zw_registry_load_dir(struct zw_registry *reg, const char *dir, struct zw_error *err);
/* Add one table (compiled in, or a test's). Duplicates and ABI mismatches are refused. */
int zw_registry_add(struct zw_registry *reg, const struct zw_provider *p, const char *origin,
		    struct zw_error *err);
const struct zw_provider *zw_registry_find(const struct zw_registry *reg, const char *name);
void zw_registry_free(struct zw_registry *reg);
struct zw_http_hooks;
/* Hooks for the HTTP client the registry makes on first use (the controller counts
 * provider requests through .observe); copied. Call before any connection is opened. */
void zw_registry_set_http_hooks(struct zw_registry *reg, const struct zw_http_hooks *hooks);

/* Check a Provider manifest's settings against the provider's option table and open it. */
int zw_conn_open(struct zw_conn **out, const struct zw_registry *reg, const struct zw_provider *p,
		 const struct zw_kv *opts, size_t nopts, struct zw_error *err);
/* Same, looking the provider up by the manifest's type. */
int zw_conn_open_manifest(struct zw_conn **out, const struct zw_registry *reg,
			  const struct zw_provider_spec *spec, struct zw_error *err);
void zw_conn_close(struct zw_conn *c);

/* The zone holding a domain: its apex (canonical) and the provider's id, both owned by
 * the caller. */
int zw_conn_find_zone(struct zw_conn *c, const char *domain, char **apex, char **id, struct zw_error *err);
int zw_conn_nameservers(struct zw_conn *c, const char *zone_id, char ***ns, size_t *n, struct zw_error *err);
int zw_conn_list(struct zw_conn *c, const char *zone_id, struct zw_zonestate *zs, struct zw_error *err);
/* Ask the registrar to delegate `domain` to the zone's name servers (opt-in); the
 * registrar's operation id in op. ZW_EUNSUPPORTED when the provider cannot. */
int zw_conn_fix_delegation(struct zw_conn *c, const char *domain, const char *zone_id, char *op, size_t opsz,
			   struct zw_error *err);
/* Does the provider declare this setting? */
int zw_provider_has_option(const struct zw_provider *p, const char *name);
/* Apply a plan's changes; results[i] (caller's array of p->n) gets each change's
 * outcome and messages[i] its message (caller frees each). 0 when all applied. */
int zw_conn_apply(struct zw_conn *c, const char *zone_id, const struct zw_plan *p,
		  enum zw_prov_result *results, char **messages, struct zw_error *err);

#endif

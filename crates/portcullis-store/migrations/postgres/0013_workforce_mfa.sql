-- Workforce tenants now require a second factor by default (DESIGN §1). Tenants made before
-- that default, and still on the defaults of their profile, keep what they had: a second factor
-- from those who enrolled one. The stored policy names only `mfa`; every other field's default
-- is the workforce default it had.
INSERT INTO auth_policies (tenant_id, policy, updated_at)
SELECT id, '{"mfa":"optional"}', updated_at
FROM tenants
WHERE profile = 'workforce'
  AND NOT EXISTS (SELECT 1 FROM auth_policies WHERE auth_policies.tenant_id = tenants.id);

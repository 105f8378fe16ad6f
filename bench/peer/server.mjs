// node-oidc-provider (npm `oidc-provider` 9, a certified OpenID provider) configured for the
// workload bench/peer measures: client_credentials issuing ES256 JWT access tokens (through
// resource indicators, the only way it issues JWTs for this grant), introspection, JWKS and
// discovery. One process, one core, as it runs in production unless clustered.
import Provider from 'oidc-provider';
import { exportJWK, generateKeyPair } from 'jose';

const port = Number(process.env.PORT);
const keys = [];
for (const [alg, kid] of [['RS256', 'rs'], ['ES256', 'es']]) {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  keys.push({ ...(await exportJWK(privateKey)), alg, kid, use: 'sig' });
}
const resource = 'https://api.example.com';
const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: 'bench', client_secret: 'bench-secret-0123456789abcdef',
    grant_types: ['client_credentials'], redirect_uris: [], response_types: [],
  }],
  jwks: { keys },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: '', audience: resource, accessTokenFormat: 'jwt', accessTokenTTL: 3600, jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
});
provider.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));

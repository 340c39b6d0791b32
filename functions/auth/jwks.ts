import { getVerificationKeys } from '../../shared/auth/keys.js';
import { JsonWebKeySet } from '../../shared/health/schemas.js';
import { createHandler } from '../../shared/http/handler.js';
import { authRoutes } from '../../shared/routes/auth.js';

/**
 * The public key set (`GET /.well-known/jwks.json`), read like every verifier reads it: from
 * the public keys only. Cached by clients for 60 s, shorter than the time a rotation leaves
 * between publishing a key and signing with it (`PUBLICATION_LEAD_MS`, 70 s), so an HTTP
 * cache in front of another verifier never hides a key that already signs.
 */
export const handler = createHandler(authRoutes.jwks, async () => ({
  status: 200,
  // jose's JWK type has every member optional; the set is ours, its shape is the schema's.
  body: JsonWebKeySet.parse((await getVerificationKeys()).publicJwks),
  headers: { 'Cache-Control': 'public, max-age=60' },
}));

import { provideJoseToJwksRsa } from './support/oidc.js';

// jwks-rsa (CommonJS) require()s the ESM-only jose; see provideJoseToJwksRsa.
provideJoseToJwksRsa();

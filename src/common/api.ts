/** Every API route lives under this prefix (no leading slash, as Nest's setGlobalPrefix takes it). */
export const API_PREFIX = 'api/v1';

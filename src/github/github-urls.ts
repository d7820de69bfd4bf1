/** GitHub's public API host; its web host is github.com. */
const GITHUB_API_HOST = 'api.github.com';
const GITHUB_WEB_ORIGIN = 'https://github.com';
/** GitHub Enterprise Cloud with data residency: the API of SUB.ghe.com is api.SUB.ghe.com. */
const GHE_COM_API_HOST = /^api\.([a-z0-9-]+)\.ghe\.com$/;
/** GitHub Enterprise Server serves its REST API under /api/v3 of its web address. */
const GHES_API_PATH = /\/api\/v3$/;

/**
 * The organization's web address, as `./config.sh --url` wants it, from the REST API's base URL:
 * `https://api.github.com` → `https://github.com/ORG`; GHES `https://HOST/api/v3` → `https://HOST/ORG`;
 * `https://api.SUB.ghe.com` → `https://SUB.ghe.com/ORG`; anything else (the simulator) → its origin + `/ORG`.
 */
export function orgWebUrl(apiUrl: string, org: string): string {
  const url = new URL(apiUrl);
  const orgPath = encodeURIComponent(org);
  if (url.hostname === GITHUB_API_HOST) return `${GITHUB_WEB_ORIGIN}/${orgPath}`;
  const gheCom = GHE_COM_API_HOST.exec(url.hostname);
  if (gheCom) return `${url.protocol}//${gheCom[1]}.ghe.com/${orgPath}`;
  const path = url.pathname.replace(/\/+$/, '');
  const webPath = GHES_API_PATH.test(path) ? path.replace(GHES_API_PATH, '') : '';
  return `${url.origin}${webPath}/${orgPath}`;
}

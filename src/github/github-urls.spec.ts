import { orgWebUrl } from './github-urls.js';

describe('orgWebUrl', () => {
  it.each([
    ['api.github.com', 'https://api.github.com', 'https://github.com/my-org'],
    ['api.github.com with a trailing slash', 'https://api.github.com/', 'https://github.com/my-org'],
    ['GHES', 'https://ghes.example.com/api/v3', 'https://ghes.example.com/my-org'],
    ['GHES with a trailing slash', 'https://ghes.example.com/api/v3/', 'https://ghes.example.com/my-org'],
    ['GHES on its own port', 'https://ghes.example.com:8443/api/v3', 'https://ghes.example.com:8443/my-org'],
    ['GHE.com (data residency)', 'https://api.octocorp.ghe.com', 'https://octocorp.ghe.com/my-org'],
    ['the simulator', 'http://127.0.0.1:41234', 'http://127.0.0.1:41234/my-org'],
    ['the simulator with a trailing slash', 'http://127.0.0.1:41234/', 'http://127.0.0.1:41234/my-org'],
    ['a host name in capitals', 'https://API.GITHUB.COM', 'https://github.com/my-org'],
  ])('derives the org web address for %s', (_case, apiUrl, expected) => {
    expect(orgWebUrl(apiUrl, 'my-org')).toBe(expected);
  });

  it('keeps a path that is not the GHES API prefix out of the web address', () => {
    expect(orgWebUrl('http://localhost:3001/some/proxy', 'my-org')).toBe('http://localhost:3001/my-org');
  });
});

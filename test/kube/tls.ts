// A self-signed certificate for 127.0.0.1 and localhost (valid 2020–2120), for the test API server's
// TLS mode: kubectl sends a bearer token only over https, so token tests with kubectl need it. It is a
// throwaway test key, generated for this purpose with openssl and used for nothing else; kubeconfig()
// puts the certificate in certificate-authority-data so that kubectl and client-node trust it.
export const TEST_TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBrjCCAVWgAwIBAgICEAAwCgYIKoZIzj0EAwIwJTEjMCEGA1UEAwwaY2FuYXJ5
LXRlc3Qta3ViZS1hcGlzZXJ2ZXIwIBcNMjAwMTAxMDAwMDAwWhgPMjEyMDAxMDEw
MDAwMDBaMCUxIzAhBgNVBAMMGmNhbmFyeS10ZXN0LWt1YmUtYXBpc2VydmVyMFkw
EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEBzBdLvX0b10o38WB1HmaRJqsO/sfDmGc
UK7okDX6OliRuZKIreL/QFnhO1h5jr3qVP7isu7KFvHZICaDqUeefqNzMHEwGgYD
VR0RBBMwEYcEfwAAAYIJbG9jYWxob3N0MA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0P
AQH/BAQDAgKEMBMGA1UdJQQMMAoGCCsGAQUFBwMBMB0GA1UdDgQWBBQVEx4NqFWO
IZDWtLfgeO7dm1sj8DAKBggqhkjOPQQDAgNHADBEAiAteXHKrMSM5lepWVOyKple
M7d1hPld65Z6NnpzE/kxQQIgEFrdcyPAwvSvmy1QNdofUpjMa0gzeMV/XjNuvwfd
9OA=
-----END CERTIFICATE-----
`;
export const TEST_TLS_KEY = `-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIF2sW3ToUibbK/WjrWYkcMnoLtvqRlDWl1sitqlbkkfDoAoGCCqGSM49
AwEHoUQDQgAEBzBdLvX0b10o38WB1HmaRJqsO/sfDmGcUK7okDX6OliRuZKIreL/
QFnhO1h5jr3qVP7isu7KFvHZICaDqUeefg==
-----END EC PRIVATE KEY-----
`;

/**
 * The Kubernetes manifests, checked without a cluster: every object passes the Kubernetes 1.27
 * OpenAPI schema (compiled by kubernetes-models), and the objects fit together: selectors match the
 * pod labels, the probes use the server's real health routes, every Secret and ConfigMap key the
 * pods read exists, the PodDisruptionBudget keeps a pod through a drain.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { deployDir } from './support/paths.js';
import { readYaml } from './support/yaml.js';

const dir = join(deployDir, 'kubernetes');
const models: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/Ingress': Ingress,
};

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are plain data, checked by the schema above
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
const objects = files.flatMap((file) => readYaml(join(dir, file)).map((o) => ({ file, object: o as K8sObject })));
const find = (kind: string) => objects.filter((o) => o.object.kind === kind).map((o) => o.object);
const one = (kind: string) => {
  const found = find(kind);
  expect(found, kind).toHaveLength(1);
  return found[0] as K8sObject;
};

describe('Kubernetes manifests', () => {
  it.each(objects.map((o) => [`${o.file}: ${o.object.kind} ${o.object.metadata?.name}`, o.object] as const))(
    '%s passes the Kubernetes 1.27 schema',
    (_name, object) => {
      const Model = models[`${object.apiVersion}/${object.kind}`];
      expect(Model, `${object.apiVersion} ${object.kind} is not one of the kinds this test knows`).toBeDefined();
      expect(() => new (Model as NonNullable<typeof Model>)(object as never).validate()).not.toThrow();
      expect(object.metadata.namespace ?? (object.kind === 'Namespace' ? undefined : 'missing')).not.toBe('missing');
    },
  );

  it('the schema check notices a wrong type', () => {
    const broken = structuredClone(one('Deployment'));
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'eighty';
    expect(() => new Deployment(broken as never).validate()).toThrow(/containerPort must be integer/);
  });

  it('kustomization lists every manifest except the example Secret', () => {
    const kustomization = readYaml(join(dir, 'kustomization.yaml'))[0] as { resources: string[] };
    expect([...kustomization.resources].sort()).toEqual(files.filter((f) => f !== 'secret.example.yaml').sort());
  });

  it('the server Deployment: probes on the real health routes, non-root, settings from the Secret and ConfigMap', () => {
    const deployment = one('Deployment');
    const pod = deployment.spec.template;
    const [container] = pod.spec.containers;
    expect(deployment.spec.selector.matchLabels).toEqual(
      Object.fromEntries(Object.entries(pod.metadata.labels).filter(([k]) => k in deployment.spec.selector.matchLabels)),
    );
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    expect(container.readinessProbe.httpGet).toEqual({ path: '/api/health', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/api/health/live', port: 'http' });
    expect(container.ports[0]).toMatchObject({ name: 'http', containerPort: 8080 });
    expect(container.args).toEqual(['--host', '0.0.0.0', '--port', '8080', '--data-dir', '/var/lib/nattevakt']);
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect(container.securityContext.capabilities.drop).toEqual(['ALL']);

    const secret = one('Secret');
    const config = one('ConfigMap');
    const fromSecret = container.env.filter((e: { valueFrom?: unknown }) => e.valueFrom !== undefined);
    expect(fromSecret.map((e: { name: string }) => e.name).sort()).toEqual(['DATABASE_URL', 'INFLUX_TOKEN', 'REDIS_URL']);
    for (const e of fromSecret) {
      expect(e.valueFrom.secretKeyRef.name).toBe(secret.metadata.name);
      expect(Object.keys(secret.stringData ?? {})).toContain(e.valueFrom.secretKeyRef.key);
    }
    expect(container.envFrom).toEqual([{ configMapRef: { name: config.metadata.name } }]);
    expect(Object.keys(config.data ?? {}).sort()).toEqual(['INFLUX_BUCKET', 'INFLUX_ORG', 'INFLUX_URL', 'REDIS_KEY_PREFIX']);
    const mounts = container.volumeMounts.map((m: { name: string }) => m.name);
    expect(pod.spec.volumes.map((v: { name: string }) => v.name).sort()).toEqual([...mounts].sort());
  });

  it('the Service, PodDisruptionBudget and Ingress select the server pods', () => {
    const labels = one('Deployment').spec.template.metadata.labels as Record<string, string>;
    const service = one('Service');
    const pdb = one('PodDisruptionBudget');
    const ingress = one('Ingress');
    for (const [key, value] of Object.entries({ ...service.spec.selector, ...pdb.spec.selector.matchLabels }))
      expect(labels[key]).toBe(value);
    expect(pdb.spec.minAvailable).toBe(1);
    expect(service.spec.ports[0].targetPort).toBe('http');
    const backend = ingress.spec.rules[0].http.paths[0].backend.service;
    expect(backend).toEqual({ name: service.metadata.name, port: { name: service.spec.ports[0].name } });
    expect(ingress.spec.tls).toHaveLength(1);
  });
});

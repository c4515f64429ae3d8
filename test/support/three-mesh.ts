import { ClusterSpec, writeClusters } from './fixtures';

/**
 * Three meshes in full pairwise federation (six ServiceMeshPeers), in the shape of the OSSM 2 docs:
 * - red exports ratings to green under an alias, and everything labelled export-service=true to blue;
 * - green exports reviews to blue, which imports it importAsLocal into bookinfo where blue runs its own
 *   reviews (failover between local pods and green's);
 * - blue exports details to red, which imports it under a custom domain suffix with a locality.
 */
export function threeMeshSpecs(): ClusterSpec[] {
  const peers = (self: string) =>
    ['red', 'green', 'blue'].filter((c) => c !== self).map((c) => ({ name: `${c}-mesh`, trustDomain: `${c}-mesh.local`, rootOf: c }));
  return [
    {
      name: 'red',
      trustDomain: 'red-mesh.local',
      root: 'red',
      cpNamespace: 'red-mesh-system',
      services: [
        { namespace: 'red-bookinfo', name: 'ratings', labels: { 'export-service': 'true' } },
        { namespace: 'red-bookinfo', name: 'productpage' },
      ],
      peers: peers('red'),
      exportSets: [
        {
          name: 'green-mesh',
          exportRules: [
            {
              type: 'NameSelector',
              nameSelector: { namespace: 'red-bookinfo', name: 'ratings', alias: { namespace: 'bookinfo', name: 'red-ratings' } },
            },
          ],
        },
        {
          name: 'blue-mesh',
          exportRules: [
            {
              type: 'LabelSelector',
              labelSelector: {
                namespace: 'red-bookinfo',
                selector: { matchLabels: { 'export-service': 'true' } },
                aliases: [{ namespace: '*', name: '*', alias: { namespace: 'bookinfo' } }],
              },
            },
          ],
        },
      ],
      importSets: [
        {
          name: 'blue-mesh',
          spec: {
            importRules: [{ type: 'NameSelector', nameSelector: { namespace: 'bookinfo' }, domainSuffix: 'blue.global' }],
            locality: { region: 'eu-north', zone: 'b' },
          },
        },
      ],
      settings: {
        eastWestGateway: {
          address: 'red-ew.example.com',
          service: { annotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' } },
        },
      },
    },
    {
      name: 'green',
      trustDomain: 'green-mesh.local',
      root: 'green',
      cpNamespace: 'green-mesh-system',
      services: [{ namespace: 'bookinfo', name: 'reviews', serviceAccount: 'bookinfo-reviews' }],
      peers: peers('green'),
      exportSets: [
        { name: 'blue-mesh', exportRules: [{ type: 'NameSelector', nameSelector: { namespace: 'bookinfo', name: 'reviews' } }] },
      ],
      importSets: [
        {
          name: 'red-mesh',
          spec: {
            importRules: [
              {
                type: 'NameSelector',
                nameSelector: { namespace: 'bookinfo', name: 'red-ratings', alias: { namespace: 'bookinfo', name: 'ratings' } },
              },
            ],
          },
        },
      ],
      settings: { eastWestGateway: { address: '203.0.113.20' } },
    },
    {
      name: 'blue',
      trustDomain: 'blue-mesh.local',
      root: 'blue',
      cpNamespace: 'istio-system',
      services: [
        { namespace: 'bookinfo', name: 'reviews', serviceAccount: 'bookinfo-reviews' },
        { namespace: 'bookinfo', name: 'details' },
      ],
      peers: peers('blue'),
      exportSets: [{ name: 'red-mesh', exportRules: [{ type: 'NameSelector', nameSelector: { namespace: 'bookinfo', name: 'details' } }] }],
      importSets: [
        {
          name: 'green-mesh',
          spec: {
            importRules: [
              { type: 'NameSelector', importAsLocal: true, nameSelector: { namespace: 'bookinfo', alias: { namespace: 'bookinfo' } } },
            ],
          },
        },
        { name: 'red-mesh', spec: { importRules: [{ type: 'NameSelector', nameSelector: { namespace: '*' } }] } },
      ],
      settings: { eastWestGateway: { address: '203.0.113.30' }, remoteNetworks: { 'green-mesh': 'green-ew' } },
    },
  ];
}

export function writeThreeMesh(): string {
  return writeClusters(threeMeshSpecs());
}

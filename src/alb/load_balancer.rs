//! A load balancer's ARN: the `signer` its tokens carry, and the region its keys are published
//! in.

/// An Application Load Balancer, from its ARN
/// `arn:{partition}:elasticloadbalancing:{region}:{account}:loadbalancer/app/{name}/{id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LoadBalancer {
    /// The ARN exactly as configured: a token's `signer` must equal it.
    pub(crate) arn: String,
    pub(crate) partition: String,
    pub(crate) region: String,
}

impl LoadBalancer {
    /// Parses an ARN; `None` for anything but an application load balancer's.
    pub(crate) fn parse(arn: &str) -> Option<Self> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [scheme, partition, service, region, account, resource] = parts[..] else {
            return None;
        };
        let is_label = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        let mut app = resource.strip_prefix("loadbalancer/app/")?.split('/');
        let (name, id) = (app.next()?, app.next()?);
        let valid = scheme == "arn"
            && is_label(partition)
            && service == "elasticloadbalancing"
            && is_label(region)
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_hexdigit())
            && app.next().is_none();
        valid.then(|| Self {
            arn: arn.to_owned(),
            partition: partition.to_owned(),
            region: region.to_owned(),
        })
    }

    /// Where AWS publishes this load balancer's keys, `{kid}` standing for the key id: the
    /// regional `public-keys.auth.elb` host, an S3 bucket in GovCloud. `None` for another
    /// partition (China): give the location with
    /// [`key_url`](super::AlbVerifierBuilder::key_url).
    pub(crate) fn default_key_url(&self) -> Option<String> {
        let region = &self.region;
        match self.partition.as_str() {
            "aws" => Some(format!(
                "https://public-keys.auth.elb.{region}.amazonaws.com/{{kid}}"
            )),
            "aws-us-gov" => Some(format!(
                "https://s3-{region}.amazonaws.com/aws-elb-public-keys-prod-{region}/{{kid}}"
            )),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/my-alb/50dc6c495c0c9188";

    #[test]
    fn reads_the_region_and_the_key_location() {
        let alb = LoadBalancer::parse(ARN).unwrap();
        assert_eq!(alb.region, "eu-west-1");
        assert_eq!(
            alb.default_key_url().unwrap(),
            "https://public-keys.auth.elb.eu-west-1.amazonaws.com/{kid}"
        );
        let gov = LoadBalancer::parse(
            &ARN.replace(":aws:", ":aws-us-gov:")
                .replace("eu-west-1", "us-gov-west-1"),
        )
        .unwrap();
        assert_eq!(
            gov.default_key_url().unwrap(),
            "https://s3-us-gov-west-1.amazonaws.com/aws-elb-public-keys-prod-us-gov-west-1/{kid}"
        );
        let china = LoadBalancer::parse(&ARN.replace(":aws:", ":aws-cn:")).unwrap();
        assert_eq!(china.default_key_url(), None);
    }

    #[test]
    fn refuses_what_is_not_an_application_load_balancer() {
        for arn in [
            "",
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012",
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/my-nlb/50dc6c495c0c9188",
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/app/x/50dc6c495c0c9188",
            "arn:aws:ec2:eu-west-1:123456789012:loadbalancer/app/my-alb/50dc6c495c0c9188",
            "arn:aws:elasticloadbalancing::123456789012:loadbalancer/app/my-alb/50dc6c495c0c9188",
            "arn:aws:elasticloadbalancing:eu-west-1:1234:loadbalancer/app/my-alb/50dc6c495c0c9188",
            "arn:aws:elasticloadbalancing:EU-WEST-1:123456789012:loadbalancer/app/my-alb/50dc6c495c0c9188",
            "arn:aws:elasticloadbalancing:eu-west-1/x:123456789012:loadbalancer/app/my-alb/50dc6c495c0c9188",
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/my-alb/50dc/x",
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/my alb/50dc6c495c0c9188",
            "xrn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/my-alb/50dc6c495c0c9188",
        ] {
            assert_eq!(LoadBalancer::parse(arn), None, "{arn}");
        }
    }
}

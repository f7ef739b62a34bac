package policy

// DownloadPurpose is one reason a data-protection officer may take a copy
// of a recording out of callguard (the web workspace asks for one, and the
// audit records it).
type DownloadPurpose struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

// DefaultDownloadPurposes are the purposes the policies callguard follows
// record calls for (training, quality, complaints, evidence), with the
// requests the law makes (subject access, legal claims).
var DefaultDownloadPurposes = []DownloadPurpose{
	{ID: "complaint", Label: "Investigating a complaint"},
	{ID: "evidence", Label: "Evidence for a dispute or an investigation"},
	{ID: "subject-access", Label: "A subject-access request"},
	{ID: "legal", Label: "Legal claim or a court or police request"},
	{ID: "training", Label: "Training material (with the caller's consent)"},
}

// DownloadPurposeList is the policy's download purposes, or the defaults
// when it lists none.
func (p *Policy) DownloadPurposeList() []DownloadPurpose {
	if p == nil || len(p.DownloadPurposes) == 0 {
		return DefaultDownloadPurposes
	}
	return p.DownloadPurposes
}

// DownloadPurpose returns the download purpose with the id, or nil.
func (p *Policy) DownloadPurpose(id string) *DownloadPurpose {
	for _, d := range p.DownloadPurposeList() {
		if d.ID == id {
			return &d
		}
	}
	return nil
}

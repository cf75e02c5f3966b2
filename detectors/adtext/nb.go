package adtext

import (
	"fmt"
	"math"
)

// NaiveBayes is the baseline the logistic model is measured against: a
// multinomial naive Bayes over the same hashed features (character
// n-grams, words and word pairs), with add-one smoothing. It is what a
// trained model has to beat to be worth its training.
type NaiveBayes struct {
	logRatio []float32 // per bucket: log P(f|ad) - log P(f|not)
	prior    float64   // log P(ad) - log P(not)
}

// TrainNaiveBayes counts the features of every example of src, in one pass
// and memory bounded by the hashed feature space.
func TrainNaiveBayes(src Source) (*NaiveBayes, error) {
	var counts [2][]float64
	counts[0], counts[1] = make([]float64, hashBuckets), make([]float64, hashBuckets)
	var totals, docs [2]float64
	var buf []byte
	for l, err := range src {
		if err != nil {
			return nil, err
		}
		c := 0
		if l.Ad {
			c = 1
		}
		docs[c]++
		buf = modelText(buf[:0], l.Text)
		hashes(buf, func(i uint32) {
			counts[c][i]++
			totals[c]++
		})
	}
	if docs[0] == 0 || docs[1] == 0 {
		return nil, fmt.Errorf("train naive Bayes: need examples of both ads and non-ads, got %v ads of %v", docs[1], docs[0]+docs[1])
	}
	vocab := 0.0
	for i := range counts[0] {
		if counts[0][i]+counts[1][i] > 0 {
			vocab++
		}
	}
	nb := &NaiveBayes{logRatio: make([]float32, hashBuckets), prior: math.Log(docs[1] / docs[0])}
	for i := range nb.logRatio {
		nb.logRatio[i] = float32(math.Log((counts[1][i]+1)/(totals[1]+vocab)) - math.Log((counts[0][i]+1)/(totals[0]+vocab)))
	}
	return nb, nil
}

// Score is the naive Bayes posterior that text is an ad. Its independence
// assumption makes it overconfident: it ranks texts, it is no probability.
func (nb *NaiveBayes) Score(text string) float64 {
	var buf [normBuf]byte
	z := nb.prior
	hashes(modelText(buf[:0], text), func(i uint32) { z += float64(nb.logRatio[i]) })
	return sigmoid(z)
}
